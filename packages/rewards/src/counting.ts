import { decodeSync } from "@apo-rl/core";
import { Schema } from "effect";
import { answerTagContent } from "./internal/extract.js";
import { tooLong } from "./internal/inputLimit.js";
import { lastCount } from "./internal/numberWords.js";
import { DEFAULT_MAX_INPUT_LENGTH } from "./limits.js";
import type { BuiltinVerifier } from "./VerifierSpec.js";

/**
 * Options of {@link counting}.
 *
 * @since 0.1.0
 * @category verifiers
 */
export const CountingOptions = Schema.Struct({
  /** Absolute tolerance for non-integer numeric answers. Default 0 (exact). */
  tolerance: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))),
  maxInputLength: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThan(0))),
});

/**
 * @since 0.1.0
 * @category verifiers
 */
export type CountingOptions = typeof CountingOptions.Type;

const decodeOptions = decodeSync(CountingOptions, "counting options");

/**
 * Counting / numeric verifier: the last number in the response (digits, `1,234`, or words such as
 * "seven", "twenty-one"; `<answer>` content preferred) equals the reference number.
 *
 * @since 0.1.0
 * @category verifiers
 */
export const counting = (options: CountingOptions = {}): BuiltinVerifier => {
  const decoded = decodeOptions(options);
  const tolerance = decoded.tolerance ?? 0;
  const maxInputLength = decoded.maxInputLength ?? DEFAULT_MAX_INPUT_LENGTH;
  return {
    specificationVersion: "v1",
    name: "counting",
    spec: { kind: "counting", options: decoded },
    verify: (response, reference) => {
      const limited = tooLong(response, reference, maxInputLength);
      if (limited !== undefined) return limited;
      const expected = lastCount(reference);
      if (expected === undefined)
        return { reward: 0, correct: false, details: { reason: "invalid-reference" } };
      const given = lastCount(answerTagContent(response) ?? response);
      if (given === undefined) return { reward: 0, correct: false, details: { reason: "no-answer" } };
      const correct = Math.abs(given.value - expected.value) <= tolerance;
      return {
        reward: correct ? 1 : 0,
        correct,
        details: {
          reason: correct ? "match" : "mismatch",
          extracted: given.value,
          reference: expected.value,
        },
      };
    },
  };
};
