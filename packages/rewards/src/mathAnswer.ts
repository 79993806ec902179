import { decodeSync } from "@apo-rl/core";
import { Schema } from "effect";
import { tooLong } from "./internal/inputLimit.js";
import { explainEquivalence } from "./isEquivalent.js";
import { DEFAULT_MAX_INPUT_LENGTH } from "./limits.js";
import type { BuiltinVerifier } from "./VerifierSpec.js";

/**
 * Options of {@link mathAnswer}, decoded with errors that name the field.
 *
 * @since 0.1.0
 * @category verifiers
 */
export const MathAnswerOptions = Schema.Struct({
  extraction: Schema.optionalKey(
    Schema.Array(Schema.Literals(["latex", "expr"])).check(Schema.isMinLength(1)),
  ),
  relativeTolerance: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))),
  choiceLetters: Schema.optionalKey(Schema.String),
  maxInputLength: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThan(0))),
});

/**
 * @since 0.1.0
 * @category verifiers
 */
export type MathAnswerOptions = typeof MathAnswerOptions.Type;

const decodeOptions = decodeSync(MathAnswerOptions, "mathAnswer options");

/**
 * Math answer verifier: reward 1 when the response's final answer (`<answer>`, else the last
 * `\boxed{}`, else the stated / last expression) is equivalent to the reference, else 0. A reference
 * that cannot be parsed gives reward 0 with reason `invalid-reference` — check references at load
 * time with `parseReference`.
 *
 * @since 0.1.0
 * @category verifiers
 */
export const mathAnswer = (options: MathAnswerOptions = {}): BuiltinVerifier => {
  const decoded = decodeOptions(options);
  const maxInputLength = decoded.maxInputLength ?? DEFAULT_MAX_INPUT_LENGTH;
  return {
    specificationVersion: "v1",
    name: "math-answer",
    spec: { kind: "math-answer", options: decoded },
    verify: (response, reference) => {
      const limited = tooLong(response, reference, maxInputLength);
      if (limited !== undefined) return limited;
      const result = explainEquivalence(reference, response, decoded);
      return {
        reward: result.equivalent ? 1 : 0,
        correct: result.equivalent,
        details: {
          reason: result.reason,
          ...(result.predictedAnswer === undefined ? {} : { extracted: result.predictedAnswer }),
          ...(result.goldAnswer === undefined ? {} : { reference: result.goldAnswer }),
          ...(result.detail === undefined ? {} : { detail: result.detail }),
        },
      };
    },
  };
};
