/**
 * Multiple-choice letters: `B`, `(B)`, `B.`, `B)`, "the answer is B", `\boxed{B}`, `\text{(B)}`.
 * An explicit statement ("answer is B") wins, then a letter opening the response ("A. Because …"),
 * then the last standalone letter.
 */
const escapeLetters = (letters: string): string => letters.replace(/[^A-Za-z]/g, "");

export const extractChoiceLetter = (text: string, letters: string): string | undefined => {
  const set = escapeLetters(letters).toUpperCase();
  if (set === "") return undefined;
  const cleaned = text
    .replace(/\\(?:boxed|text|textbf|mathrm)\s*\{([^{}]{0,40})\}/g, " $1 ")
    .replace(/\$/g, " ");
  const letter = `[${set}]`;
  const explicit = new RegExp(
    `(?:[Aa]nswer|[Oo]ption|[Cc]hoice)\\s{0,3}(?:is\\s{0,3})?:?\\s{0,3}\\(?(${letter})\\)?(?![A-Za-z])`,
    "g",
  );
  let last: string | undefined;
  for (const match of cleaned.matchAll(explicit)) last = match[1];
  if (last !== undefined && set.includes(last.toUpperCase())) return last.toUpperCase();
  const opening = new RegExp(`^\\s*\\(?(${letter})(?:[).:]|\\s*$|\\s)`).exec(cleaned);
  if (opening !== null) return opening[1];
  const standalone = new RegExp(`(?<![A-Za-z])\\(?(${letter})\\)?(?![A-Za-z'])`, "g");
  for (const match of cleaned.matchAll(standalone)) last = match[1];
  return last;
};
