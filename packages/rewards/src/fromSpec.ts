import { choice } from "./choice.js";
import { composite } from "./composite.js";
import { counting } from "./counting.js";
import { format } from "./format.js";
import { groundingIou } from "./groundingIou.js";
import { mathAnswer } from "./mathAnswer.js";
import type { BuiltinVerifier, VerifierSpec } from "./VerifierSpec.js";

/**
 * Rebuild a built-in verifier from its {@link VerifierSpec} (what a pool worker does).
 *
 * @since 0.1.0
 * @category pool
 */
export const fromSpec = (spec: VerifierSpec): BuiltinVerifier => {
  switch (spec.kind) {
    case "math-answer":
      return mathAnswer(spec.options);
    case "choice":
      return choice(spec.options);
    case "format":
      return format(spec.options);
    case "grounding-iou":
      return groundingIou(spec.options);
    case "counting":
      return counting(spec.options);
    case "composite":
      return composite({
        parts: Object.fromEntries(
          spec.options.parts.map((part) => [
            part.name,
            { verifier: fromSpec(part.spec), weight: part.weight },
          ]),
        ),
        correctFrom: spec.options.correctFrom,
      });
  }
};
