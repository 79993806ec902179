/**
 * Finding the final answer in a response: `<answer>` content, else the last `\boxed{}` (grouped with
 * adjacent boxes), else the value after "final answer", else the last math span or number. Every scan
 * here is linear in the input length.
 */

export type ExtractionMode = "latex" | "expr";

/** Where an answer came from; plain-text answers get plain-text number rules (decimal commas). */
export interface Candidate {
  readonly text: string;
  readonly source: "answer-tag" | "boxed" | "final-answer" | "whole" | "math" | "plain";
}

interface Span {
  readonly start: number;
  readonly end: number;
  readonly content: string;
}

/** Repair strings that went through a raw literal: `\\frac` → `\frac`, literal `\n` → newline. */
export const repairEscapes = (text: string): string => {
  const unescaped = /matrix|array/.test(text) ? text : text.replace(/\\\\(?=[a-zA-Z])/g, "\\");
  return unescaped.replace(/\\n(?![a-z])/g, "\n");
};

/** The content of the last `<answer>…</answer>` block, if any. */
export const answerTagContent = (text: string): string | undefined => {
  const lower = text.toLowerCase();
  const open = lower.lastIndexOf("<answer>");
  if (open === -1) return undefined;
  const close = lower.indexOf("</answer>", open);
  return text.slice(open + "<answer>".length, close === -1 ? text.length : close);
};

const readBalanced = (text: string, open: number): number | undefined => {
  let depth = 0;
  for (let index = open; index < text.length; index += 1) {
    const character = text[index];
    if (character === "\\") {
      index += 1;
      continue;
    }
    if (character === "{") depth += 1;
    else if (character === "}") {
      depth -= 1;
      if (depth === 0) return index;
    }
  }
  return undefined;
};

/** Every top-level `\boxed{…}` / `\fbox{…}` (nested boxes stay inside their parent). */
const findBoxes = (text: string): Span[] => {
  const boxes: Span[] = [];
  let from = 0;
  for (;;) {
    const boxed = text.indexOf("\\boxed", from);
    const fbox = text.indexOf("\\fbox", from);
    const start = boxed === -1 ? fbox : fbox === -1 ? boxed : Math.min(boxed, fbox);
    if (start === -1) return boxes;
    let open = start + (start === boxed ? 6 : 5);
    while (text[open] === " ") open += 1;
    if (text[open] !== "{") {
      from = open;
      continue;
    }
    const close = readBalanced(text, open);
    if (close === undefined) {
      // An unclosed last box holds the rest of the text (Math-Verify reads it the same way).
      if (boxes.length === 0) boxes.push({ start, end: text.length, content: text.slice(open + 1) });
      return boxes;
    }
    boxes.push({ start, end: close + 1, content: text.slice(open + 1, close) });
    from = close + 1;
  }
};

/** `$…$`, `$$…$$`, `\(…\)`, `\[…\]` spans; an unmatched `$` is currency, not math. */
const findMathSpans = (text: string): Span[] => {
  const spans: Span[] = [];
  // Once a closing delimiter is not found, it is not found later either: keeps the scan linear.
  const missing = new Set<string>();
  const find = (delimiter: string, from: number): number => {
    if (missing.has(delimiter)) return -1;
    const found = delimiter.startsWith("$")
      ? findUnescaped(text, delimiter, from)
      : text.indexOf(delimiter, from);
    if (found === -1) missing.add(delimiter);
    return found;
  };
  let index = 0;
  while (index < text.length) {
    const character = text[index];
    if (character === "$" && text[index - 1] !== "\\") {
      const double = text[index + 1] === "$";
      const delimiter = double ? "$$" : "$";
      const close = find(delimiter, index + delimiter.length);
      const content = close === -1 ? "" : text.slice(index + delimiter.length, close);
      // `costs $5 and the answer is $7$`: a "span" holding a sentence starts at a currency sign.
      if (close === -1 || (!double && isSentence(content))) {
        index += delimiter.length;
        continue;
      }
      spans.push({ start: index, end: close + delimiter.length, content });
      index = close + delimiter.length;
      continue;
    }
    if (character === "\\" && (text[index + 1] === "(" || text[index + 1] === "[")) {
      const closing = text[index + 1] === "(" ? "\\)" : "\\]";
      const close = find(closing, index + 2);
      if (close === -1) {
        index += 2;
        continue;
      }
      spans.push({ start: index, end: close + 2, content: text.slice(index + 2, close) });
      index = close + 2;
      continue;
    }
    index += 1;
  }
  return spans;
};

/** Three words in a row outside `\text{}`: prose, not math. */
const isSentence = (content: string): boolean =>
  /(?<![\\A-Za-z])[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}/.test(content.replace(/\\text\{[^{}]*\}/g, " "));

const findUnescaped = (text: string, delimiter: string, from: number): number => {
  let index = text.indexOf(delimiter, from);
  while (index > 0 && text[index - 1] === "\\") index = text.indexOf(delimiter, index + 1);
  return index;
};

/** Text between two answers that only separates them: `, `, ` and `, `\quad`, `$ $`, `y_2 =`. */
const isSeparatorGap = (gap: string): boolean => {
  if (gap.length > 80) return false;
  const stripped = gap
    .replace(/\\text\{([^{}]*)\}/g, " $1 ")
    .replace(/\\q?quad|\\[,;:! ]|\\\(|\\\)|\\\[|\\\]|\$/g, " ")
    .replace(/\b(?:and|or)\b/g, " ")
    .replace(/[A-Za-z](?:_\{?\w{1,4}\}?)?\s*=/g, " ")
    .replace(/[\s,;.]/g, "");
  return stripped === "";
};

/**
 * Boxes a short stretch apart belong to one answer, as in Math-Verify: a gap under 10 characters,
 * or under 70 characters that holds `and`, `or`, `,` or `;` between boxes with different content
 * (`\boxed{1} papers and \boxed{2} bins` = {1, 2}). Reading them together is never more lenient:
 * the whole group must match the gold answer.
 */
const isBoxGap = (gap: string, previous: Span, next: Span): boolean =>
  gap.length < 10 ||
  (gap.length < 70 && previous.content.trim() !== next.content.trim() && /\b(?:and|or)\b|[,;]/.test(gap));

/** Group the last span with the spans before it that are separated only by separators. */
const lastGroup = (
  text: string,
  spans: ReadonlyArray<Span>,
  sameMath: ReadonlyArray<Span>,
  boxes = false,
): Span[] => {
  const group = [spans[spans.length - 1] as Span];
  for (let index = spans.length - 2; index >= 0; index -= 1) {
    const previous = spans[index] as Span;
    const next = group[0] as Span;
    const shareMath = sameMath.some((math) => math.start <= previous.start && next.end <= math.end);
    const gap = text.slice(previous.end, next.start);
    if (!shareMath && !isSeparatorGap(gap) && !(boxes && isBoxGap(gap, previous, next))) break;
    // The same box repeated (`\boxed{004} … \boxed{004}`) is one answer.
    if (previous.content.trim() !== next.content.trim()) group.unshift(previous);
    else group[0] = previous;
  }
  return group;
};

/** Letter runs in a would-be bare answer that are not units, functions or separators. */
const proseWord =
  /(?<![\\A-Za-z])(?!(?:and|or|pct|percent|cm|mm|km|miles?|meters?|inch(?:es)?|feet|units?|degrees?|dollars?|cents?|percentage|sin|cos|tan|log|ln|sqrt|pi|infty|e)(?![A-Za-z]))[A-Za-z]{2,}/;

/** A text that is an answer by itself: one short token (`odd`, `12`), or math without prose words. */
const isBareAnswer = (text: string): boolean => {
  const trimmed = text.trim();
  if (/^[^\s$]{1,30}$/.test(trimmed)) return true;
  return !proseWord.test(
    trimmed.replace(/\\(?:text|textbf|textit|textnormal|mathrm|mbox)\s*\{[^{}]*\}/g, " "),
  );
};

/**
 * A plain number: thousands separators with an optional decimal part (`1,000.99`), a decimal comma
 * (`2,74`), a fraction (`10/9`). Letters may follow (`1,000.99m²`, units) but not precede (`XDY2K`).
 */
const plainNumber =
  /(?<![A-Za-z\d.])-?(?:[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?(?![\d,])|(?<!,)\d+,\d+(?![\d,.])|\d+(?:\.\d+)?(?![\d.]\d|\d))(?:\s*\/\s*\d+(?:\.\d+)?)?(?!\d)/g;

/** Replace math spans by spaces so plain-number search skips them. */
const blankSpans = (text: string, spans: ReadonlyArray<Span>): string => {
  let result = "";
  let from = 0;
  for (const span of spans) {
    result += text.slice(from, span.start) + " ".repeat(span.end - span.start);
    from = span.end;
  }
  return result + text.slice(from);
};

const lastPlainNumber = (text: string): { index: number; text: string } | undefined => {
  let last: { index: number; text: string } | undefined;
  for (const match of text.matchAll(plainNumber)) last = { index: match.index, text: match[0] };
  return last;
};

/** Candidates after the last "final answer": the one right after `is`/`:`/`=` wins, else the first. */
const afterFinalAnswer = (text: string, modes: ReadonlyArray<ExtractionMode>): Candidate | undefined => {
  const at = text.toLowerCase().lastIndexOf("final answer");
  if (at === -1) return undefined;
  const segment = text.slice(at + "final answer".length);
  const found: Array<{ index: number; text: string; source: Candidate["source"] }> = [];
  const spans = findMathSpans(segment);
  if (modes.includes("latex")) {
    for (const span of spans) found.push({ index: span.start, text: span.content, source: "math" });
  }
  if (modes.includes("expr")) {
    const outside = blankSpans(segment, spans);
    for (const match of outside.matchAll(plainNumber))
      found.push({ index: match.index, text: match[0], source: "plain" });
  }
  if (found.length === 0) return undefined;
  found.sort((left, right) => left.index - right.index);
  const afterIs = found.find((candidate) =>
    /(?:\bis|:|=)\s*$/i.test(segment.slice(Math.max(0, candidate.index - 12), candidate.index)),
  );
  const chosen = afterIs ?? (found[0] as (typeof found)[number]);
  if (chosen.source === "math") {
    // "The final answer is $12$ and $13$": spans joined by separators are one answer.
    const first = spans.findIndex((span) => span.start === chosen.index);
    const group = [spans[first] as Span];
    for (let index = first + 1; index < spans.length; index += 1) {
      const next = spans[index] as Span;
      const gap = segment.slice((group[group.length - 1] as Span).end, next.start);
      if (!/\b(?:and|or)\b|[,;]/.test(gap) || !isSeparatorGap(gap.replace(/["']/g, ""))) break;
      group.push(next);
    }
    return { text: group.map((span) => span.content).join(" , "), source: "final-answer" };
  }
  return { text: chosen.text, source: "final-answer" };
};

/** Find the answer a response commits to. */
export const extractAnswer = (raw: string, modes: ReadonlyArray<ExtractionMode>): Candidate | undefined => {
  const tagged = answerTagContent(raw);
  const text = repairEscapes(tagged ?? raw);
  const usesLatex = modes.includes("latex");
  const usesExpr = modes.includes("expr");
  const mathSpans = usesLatex ? findMathSpans(text) : [];
  if (usesLatex) {
    const boxes = findBoxes(text);
    const finalAt = text.toLowerCase().lastIndexOf("final answer");
    const statedLater = boxes.length > 0 && finalAt > (boxes[boxes.length - 1] as Span).end;
    const stated = statedLater ? afterFinalAnswer(text, modes) : undefined;
    if (stated !== undefined) return stated;
    if (boxes.length > 0) {
      return {
        text: lastGroup(text, boxes, mathSpans, true)
          .map((box) => box.content)
          .join(" , "),
        source: "boxed",
      };
    }
  }
  // A bare answer inside <answer> is the answer; prose inside it goes through the rules below.
  if (tagged !== undefined && text.trim() !== "" && mathSpans.length === 0 && isBareAnswer(text)) {
    return { text, source: "answer-tag" };
  }
  const final = afterFinalAnswer(text, modes);
  if (final !== undefined) return final;
  const bare = text.trim();
  if (mathSpans.length === 0 && bare !== "" && isBareAnswer(bare) && (usesExpr || /\\[a-z]/i.test(bare))) {
    return { text: bare, source: usesExpr && !/\\[a-z]/i.test(bare) ? "plain" : "whole" };
  }
  const lastMath = mathSpans.length > 0 ? lastGroup(text, mathSpans, []) : undefined;
  const plain = usesExpr ? lastPlainNumber(blankSpans(text, findMathSpans(text))) : undefined;
  const mathEnd = lastMath === undefined ? -1 : (lastMath[lastMath.length - 1] as Span).end;
  if (plain !== undefined && plain.index >= mathEnd) return { text: plain.text, source: "plain" };
  if (lastMath !== undefined)
    return { text: lastMath.map((span) => span.content).join(" , "), source: "math" };
  return undefined;
};
