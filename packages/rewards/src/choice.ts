import { decodeSync } from "@apo-rl/core";
import { Schema } from "effect";
import { extractChoiceLetter } from "./internal/choiceLetter.js";
import { answerTagContent } from "./internal/extract.js";
import { tooLong } from "./internal/inputLimit.js";
import { DEFAULT_MAX_INPUT_LENGTH } from "./limits.js";
import type { BuiltinVerifier } from "./VerifierSpec.js";

/**
 * Options of {@link choice}.
 *
 * @since 0.1.0
 * @category verifiers
 */
export const ChoiceOptions = Schema.Struct({
  /** Option texts in letter order (`options[0]` is `A`); lets a response name the option instead of its letter. */
  options: Schema.optionalKey(Schema.Array(Schema.String)),
  /** Letters in use when `options` is not given. Default `"ABCDE"`. */
  letters: Schema.optionalKey(Schema.String.check(Schema.isPattern(/^[A-Z]+$/))),
  maxInputLength: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThan(0))),
});

/**
 * @since 0.1.0
 * @category verifiers
 */
export type ChoiceOptions = typeof ChoiceOptions.Type;

const decodeOptions = decodeSync(ChoiceOptions, "choice options");

const normalizeText = (text: string): string =>
  text
    .toLowerCase()
    .replace(/\\text\{([^{}]*)\}/g, "$1")
    .replace(/[\s$.,;:!"'`*]+/g, " ")
    .trim();

/** Letter named by a response that quotes an option's text instead of its letter. */
const letterFromOptionText = (response: string, options: ReadonlyArray<string>): string | undefined => {
  const said = normalizeText(response);
  const index = options.findIndex((option) => normalizeText(option) === said);
  if (index !== -1) return String.fromCharCode(65 + index);
  // The last option text mentioned wins (longest first, so "10" does not match inside "100").
  let best: { index: number; at: number; length: number } | undefined;
  options.forEach((option, index) => {
    const text = normalizeText(option);
    if (text === "") return;
    const at = said.lastIndexOf(text);
    if (at !== -1 && (best === undefined || at > best.at || (at === best.at && text.length > best.length))) {
      best = { index, at, length: text.length };
    }
  });
  return best === undefined ? undefined : String.fromCharCode(65 + best.index);
};

/**
 * Multiple-choice verifier: the reference is a letter (`B`, `(B)`) or an option text; the response
 * may give the letter (`B`, `(B)`, `B.`, "the answer is B") or the option text. Reward 1 or 0.
 *
 * @since 0.1.0
 * @category verifiers
 */
export const choice = (options: ChoiceOptions = {}): BuiltinVerifier => {
  const decoded = decodeOptions(options);
  const optionTexts = decoded.options ?? [];
  const letters =
    optionTexts.length > 0
      ? Array.from({ length: optionTexts.length }, (_, i) => String.fromCharCode(65 + i)).join("")
      : (decoded.letters ?? "ABCDE");
  const maxInputLength = decoded.maxInputLength ?? DEFAULT_MAX_INPUT_LENGTH;
  const letterOf = (text: string): string | undefined => {
    const trimmed = /^\s*\(?([A-Z])\)?\.?\s*$/.exec(text)?.[1];
    if (trimmed !== undefined && letters.includes(trimmed)) return trimmed;
    return optionTexts.length > 0
      ? (letterFromOptionText(text, optionTexts) ?? extractChoiceLetter(text, letters))
      : extractChoiceLetter(text, letters);
  };
  return {
    specificationVersion: "v1",
    name: "choice",
    spec: { kind: "choice", options: decoded },
    verify: (response, reference) => {
      const limited = tooLong(response, reference, maxInputLength);
      if (limited !== undefined) return limited;
      const expected = letterOf(reference);
      if (expected === undefined)
        return { reward: 0, correct: false, details: { reason: "invalid-reference" } };
      const answer = answerTagContent(response) ?? response;
      const given =
        (optionTexts.length > 0 ? letterFromOptionText(answer, optionTexts) : undefined) ??
        extractChoiceLetter(answer, letters);
      if (given === undefined)
        return { reward: 0, correct: false, details: { reason: "no-answer", reference: expected } };
      const correct = given === expected;
      return {
        reward: correct ? 1 : 0,
        correct,
        details: { reason: correct ? "match" : "mismatch", extracted: given, reference: expected },
      };
    },
  };
};
