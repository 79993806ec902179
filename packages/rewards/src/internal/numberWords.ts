const units = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
];
const tens = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

const values = new Map<string, number>([
  ...units.map((word, value) => [word, value] as const),
  ...tens.flatMap((word, index) => (word === "" ? [] : [[word, index * 10] as const])),
  ["a dozen", 12],
  ["dozen", 12],
  ["none", 0],
]);

/** Value of `seven`, `twenty-one`, `twenty one`, `one hundred and five`, or `undefined`. */
export const numberWordValue = (phrase: string): number | undefined => {
  const words = phrase
    .toLowerCase()
    .replace(/-/g, " ")
    .split(/\s+/)
    .filter((word) => word !== "" && word !== "and");
  if (words.length === 0) return undefined;
  let total = 0;
  let current = 0;
  for (const word of words) {
    const value = values.get(word);
    if (value !== undefined) current += value;
    else if (word === "hundred") current = (current === 0 ? 1 : current) * 100;
    else if (word === "thousand") {
      total += (current === 0 ? 1 : current) * 1000;
      current = 0;
    } else return undefined;
  }
  return total + current;
};

const wordPattern = new RegExp(
  `\\b(?:${[...values.keys(), "hundred", "thousand"].sort((a, b) => b.length - a.length).join("|")})(?:(?:[\\s-]|\\sand\\s)(?:${[...values.keys(), "hundred", "thousand"].join("|")}))*\\b`,
  "gi",
);

/** The last integer, digit string or number phrase in a text. */
export const lastCount = (text: string): { value: number; text: string } | undefined => {
  let last: { value: number; text: string; index: number } | undefined;
  for (const match of text.matchAll(
    /(?<![\w.])-?\d{1,3}(?:,\d{3})+(?![\d.])|(?<![\w.])-?\d+(?:\.\d+)?(?![\w])/g,
  )) {
    last = { value: Number(match[0].replace(/,/g, "")), text: match[0], index: match.index };
  }
  for (const match of text.matchAll(wordPattern)) {
    if (last !== undefined && match.index < last.index) continue;
    const value = numberWordValue(match[0]);
    if (value !== undefined) last = { value, text: match[0], index: match.index };
  }
  return last === undefined ? undefined : { value: last.value, text: last.text };
};
