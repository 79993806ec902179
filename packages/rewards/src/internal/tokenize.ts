/**
 * A single-pass, linear-time LaTeX / plain-math tokenizer. No regular expression runs on the whole
 * input here, so pathological strings cannot trigger backtracking.
 */
export type Token =
  | { readonly type: "number"; readonly text: string }
  | { readonly type: "letter"; readonly text: string }
  | { readonly type: "word"; readonly text: string }
  | { readonly type: "command"; readonly name: string }
  | { readonly type: "text"; readonly text: string }
  | { readonly type: "begin"; readonly name: string }
  | { readonly type: "end"; readonly name: string }
  | { readonly type: "operator"; readonly text: string };

/** Raised when the input cannot be tokenized or parsed; the caller falls back or reports it. */
export class MathSyntaxError extends Error {
  override readonly name: string = "MathSyntaxError";
}

/** Raised when an answer nests deeper than the parser accepts: the verdict is `too-deep`. */
export class ExpressionTooDeepError extends MathSyntaxError {
  override readonly name: string = "ExpressionTooDeepError";
}

/** Longest number literal accepted; longer ones are not answers and would make exact arithmetic slow. */
const maximumNumberLength = 400;

/** Commands that become operator tokens. */
const commandOperators: Readonly<Record<string, string>> = {
  le: "≤",
  leq: "≤",
  leqslant: "≤",
  ge: "≥",
  geq: "≥",
  geqslant: "≥",
  lt: "<",
  gt: ">",
  ne: "≠",
  neq: "≠",
  approx: "≈",
  in: "∈",
  cup: "∪",
  cap: "∩",
  setminus: "∖",
  pm: "±",
  mp: "∓",
  cdot: "*",
  times: "*",
  ast: "*",
  div: "/",
  colon: ":",
  "{": "\\{",
  "}": "\\}",
  "\\": "\\\\",
  "|": "|",
  lvert: "|",
  rvert: "|",
  vert: "|",
  mid: "|",
};

/** Commands that are dropped (spacing, sizing, decoration, display style). */
const ignoredCommands = new Set([
  "left",
  "right",
  "big",
  "Big",
  "bigg",
  "Bigg",
  "bigl",
  "bigr",
  "Bigl",
  "Bigr",
  "displaystyle",
  "textstyle",
  "quad",
  "qquad",
  "boxed",
  "fbox",
  "mathrm",
  "mathbf",
  "mathit",
  "mathsf",
  "mathcal",
  "mathbb",
  "boldsymbol",
  "operatorname",
  "overline",
  "bar",
  "vec",
  "hat",
  "widehat",
  "overrightarrow",
  "rm",
  "bf",
  "it",
  "limits",
  "circ",
  "degree",
  "dots",
  "ldots",
  "cdots",
  "hline",
  "nonumber",
  "notag",
]);

/** Commands whose braced argument is plain text. */
const textCommands = new Set([
  "text",
  "textbf",
  "textit",
  "textnormal",
  "textrm",
  "texttt",
  "mbox",
  "textsf",
]);

/** Single-character operators. */
const operatorCharacters = new Set([
  "+",
  "-",
  "*",
  "/",
  "^",
  "_",
  "=",
  "<",
  ">",
  "!",
  "|",
  "&",
  ",",
  ";",
  ":",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  "≤",
  "≥",
  "≠",
  "≈",
  "±",
  "∓",
  "∪",
  "∩",
  "∈",
  "∞",
  "·",
  "×",
  "÷",
  "−",
]);

const unicodeOperators: Readonly<Record<string, string>> = { "·": "*", "×": "*", "÷": "/", "−": "-" };

const isDigit = (character: string): boolean => character >= "0" && character <= "9";
const isAsciiLetter = (character: string): boolean =>
  (character >= "a" && character <= "z") || (character >= "A" && character <= "Z");

/** `1.5e-3`, `2E10`: extend a number over its exponent (only when digits follow the `e`). */
const scientificExponentEnd = (input: string, end: number): number => {
  if (input[end] !== "e" && input[end] !== "E") return end;
  let index = end + 1;
  if (input[index] === "+" || input[index] === "-") index += 1;
  if (!isDigit(input[index] ?? "")) return end;
  while (index < input.length && isDigit(input[index] as string)) index += 1;
  return isAsciiLetter(input[index] ?? "") ? end : index;
};

/** Read a balanced `{…}` group starting at `start` (which must be `{`); returns its content and end. */
const readBraced = (input: string, start: number): { content: string; end: number } => {
  let depth = 0;
  for (let index = start; index < input.length; index += 1) {
    const character = input[index];
    if (character === "\\") {
      index += 1;
      continue;
    }
    if (character === "{") depth += 1;
    else if (character === "}") {
      depth -= 1;
      if (depth === 0) return { content: input.slice(start + 1, index), end: index + 1 };
    }
  }
  throw new MathSyntaxError("unbalanced braces");
};

const skipSpaces = (input: string, index: number): number => {
  while (index < input.length && /\s/.test(input[index] as string)) index += 1;
  return index;
};

/** Tokenize normalised answer text. Throws {@link MathSyntaxError} on characters it does not know. */
export const tokenize = (input: string): Token[] => {
  const tokens: Token[] = [];
  let index = 0;
  while (index < input.length) {
    const character = input[index] as string;
    if (/\s/.test(character)) {
      index += 1;
      continue;
    }
    if (isDigit(character) || (character === "." && isDigit(input[index + 1] ?? ""))) {
      let end = index;
      while (end < input.length && isDigit(input[end] as string)) end += 1;
      if (input[end] === "." && isDigit(input[end + 1] ?? "")) {
        end += 1;
        while (end < input.length && isDigit(input[end] as string)) end += 1;
      }
      end = scientificExponentEnd(input, end);
      if (end - index > maximumNumberLength)
        throw new MathSyntaxError(`number longer than ${maximumNumberLength} digits`);
      tokens.push({ type: "number", text: input.slice(index, end) });
      index = end;
      continue;
    }
    if (isAsciiLetter(character)) {
      let end = index;
      while (end < input.length && isAsciiLetter(input[end] as string)) end += 1;
      const text = input.slice(index, end);
      tokens.push(text.length === 1 ? { type: "letter", text } : { type: "word", text });
      index = end;
      continue;
    }
    if (character === "\\") {
      index = readCommand(input, index, tokens);
      continue;
    }
    if (character === "!" && input[index + 1] === "=") {
      tokens.push({ type: "operator", text: "≠" });
      index += 2;
      continue;
    }
    if ((character === "<" || character === ">") && input[index + 1] === "=") {
      tokens.push({ type: "operator", text: character === "<" ? "≤" : "≥" });
      index += 2;
      continue;
    }
    if (character === "∞") {
      tokens.push({ type: "command", name: "infty" });
      index += 1;
      continue;
    }
    if (character === "π") {
      tokens.push({ type: "command", name: "pi" });
      index += 1;
      continue;
    }
    if (operatorCharacters.has(character)) {
      tokens.push({ type: "operator", text: unicodeOperators[character] ?? character });
      index += 1;
      continue;
    }
    if (character === "'") {
      // A prime changes meaning (y' is not y''): it is kept as an operator.
      tokens.push({ type: "operator", text: "'" });
      index += 1;
      continue;
    }
    if (character === '"' || character === "." || character === "?" || character === "°") {
      index += 1;
      continue;
    }
    throw new MathSyntaxError(`unexpected character ${JSON.stringify(character)}`);
  }
  return tokens;
};

/** Read one `\command` at `index`, push its token(s), return the next index. */
const readCommand = (input: string, index: number, tokens: Token[]): number => {
  let end = index + 1;
  while (end < input.length && isAsciiLetter(input[end] as string)) end += 1;
  if (end === index + 1) {
    // Control symbol: \{ \} \\ \, \! \; \: \  \% \$ \|
    const symbol = input[index + 1] ?? "";
    const mapped = commandOperators[symbol];
    if (mapped !== undefined) tokens.push({ type: "operator", text: mapped });
    return index + 2;
  }
  const name = input.slice(index + 1, end);
  if (name === "begin" || name === "end") {
    const start = skipSpaces(input, end);
    if (input[start] !== "{") throw new MathSyntaxError(`\\${name} without environment name`);
    const group = readBraced(input, start);
    tokens.push({ type: name, name: group.content.trim() });
    return group.end;
  }
  if (textCommands.has(name)) {
    const start = skipSpaces(input, end);
    if (input[start] !== "{") return start;
    const group = readBraced(input, start);
    tokens.push({ type: "text", text: group.content });
    return group.end;
  }
  const operator = commandOperators[name];
  if (operator !== undefined) tokens.push({ type: "operator", text: operator });
  else if (!ignoredCommands.has(name)) tokens.push({ type: "command", name });
  return end;
};
