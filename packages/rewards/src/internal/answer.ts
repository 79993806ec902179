import type { MathNode } from "./ast.js";
import { type Candidate, type ExtractionMode, extractAnswer } from "./extract.js";
import { normalizeAnswer } from "./normalize.js";
import { parseLatex } from "./parse.js";
import { ExpressionTooDeepError, MathSyntaxError } from "./tokenize.js";

/** The outcome of reading an answer out of a text. */
export type ParsedAnswer =
  | { readonly ok: true; readonly node: MathNode; readonly extracted: string; readonly normalized: string }
  | { readonly ok: false; readonly reason: "no-answer" }
  | {
      readonly ok: false;
      readonly reason: "unparseable" | "too-deep";
      readonly extracted: string;
      readonly message: string;
    };

/** The engine's "Maximum call stack size exceeded". */
export const isStackOverflow = (error: unknown): error is RangeError =>
  error instanceof RangeError && /call stack/i.test(error.message);

const parseCandidate = (candidate: Candidate): ParsedAnswer => {
  const normalized = normalizeAnswer(candidate);
  if (normalized === "") return { ok: false, reason: "no-answer" };
  try {
    return { ok: true, node: parseLatex(normalized), extracted: candidate.text, normalized };
  } catch (error) {
    if (error instanceof ExpressionTooDeepError || isStackOverflow(error)) {
      // A RangeError here is a stack overflow the depth bounds missed: still a typed verdict.
      return { ok: false, reason: "too-deep", extracted: candidate.text, message: error.message };
    }
    if (error instanceof MathSyntaxError || error instanceof RangeError) {
      return { ok: false, reason: "unparseable", extracted: candidate.text, message: error.message };
    }
    throw error;
  }
};

/** Extract the final answer of `text` and parse it. Never evaluates the text. */
export const readAnswer = (text: string, modes: ReadonlyArray<ExtractionMode>): ParsedAnswer => {
  const candidate = extractAnswer(text, modes);
  return candidate === undefined ? { ok: false, reason: "no-answer" } : parseCandidate(candidate);
};
