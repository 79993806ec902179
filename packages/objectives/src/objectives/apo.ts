import { decodeSync, type ObjectiveV2 } from "@apo-rl/core";
import type { Tensor } from "@tensorflow/tfjs-core";
import { Schema } from "effect";
import { configFromOptions } from "../internal/configFromOptions.js";
import { policyGradientObjective } from "../internal/policyGradientObjective.js";
import { apoFields, policyGradientFields } from "../policyGradientOptions.js";

/**
 * Options of {@link apo}: the GRPO-family fields plus `dads` (on), `dadsForm` (`"reference"`),
 * `stcr` (on) and `stcrBase` (`1.00001`).
 *
 * @since 0.1.0
 * @category objectives
 */
export const ApoOptions = Schema.Struct({ ...policyGradientFields, ...apoFields });

/**
 * @since 0.1.0
 * @category objectives
 */
export type ApoOptions = typeof ApoOptions.Type;

/**
 * APO (Asymmetric Policy Optimization) = GRPO + DADS + STCR. Correct-leaning samples (positive
 * advantage) get a difficulty-adaptive KL weight `w = f(d)` (DADS); incorrect responses longer than
 * the mean correct length get their advantage scaled by `s ∈ [1, 2)` (STCR). With both switched off
 * it is exactly {@link grpo}.
 *
 * @since 0.1.0
 * @category objectives
 */
export const apo = (options: typeof ApoOptions.Encoded = {}): ObjectiveV2<Tensor> => {
  const decoded = decodeSync(ApoOptions, "apo options")(options);
  return policyGradientObjective({
    ...configFromOptions("apo", decoded),
    dads: decoded.dads ? { form: decoded.dadsForm } : undefined,
    stcr: decoded.stcr ? { base: decoded.stcrBase } : undefined,
  });
};
