import { decodeSync, type ObjectiveV2 } from "@apo-rl/core";
import type { Tensor } from "@tensorflow/tfjs-core";
import { configFromOptions } from "../internal/configFromOptions.js";
import { policyGradientObjective } from "../internal/policyGradientObjective.js";
import { PolicyGradientOptions } from "../policyGradientOptions.js";

/**
 * Options of {@link grpo}: the GRPO-family fields with the reference defaults.
 *
 * @since 0.1.0
 * @category objectives
 */
export const GrpoOptions = PolicyGradientOptions;

/**
 * @since 0.1.0
 * @category objectives
 */
export type GrpoOptions = typeof GrpoOptions.Type;

/**
 * GRPO: group-normalised advantages, the PPO-clip surrogate per token, `token-mean` aggregation and
 * `β · mean(kl)` with the `k3` estimator, `β = 1e-3` (the reference). Invalid options throw an
 * `InvalidInputError` naming the option.
 *
 * @since 0.1.0
 * @category objectives
 */
export const grpo = (options: typeof GrpoOptions.Encoded = {}): ObjectiveV2<Tensor> =>
  policyGradientObjective(configFromOptions("grpo", decodeSync(GrpoOptions, "grpo options")(options)));
