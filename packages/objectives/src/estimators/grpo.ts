import { Effect, Schema } from "effect";
import type { AdvantageEstimator } from "../AdvantageEstimator.js";
import { groupAdvantages } from "../groupAdvantages.js";

/**
 * Options of the `grpo` advantage estimator: `scale` (`group`, `batch` or `none`, default `group`)
 * and `eps` (default `1e-9`).
 *
 * @since 0.2.0
 * @category estimators
 */
export const GrpoEstimatorOptions = Schema.Struct({
  scale: Schema.Literals(["group", "batch", "none"]).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed("group" as const)),
  ),
  eps: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed(1e-9)),
  ),
});

/**
 * The group-relative estimator of GRPO (Shao et al., 2024, DeepSeekMath):
 * `A_i = (r_i − mean_group r) / (std_group r + eps)`; see `groupAdvantages`.
 *
 * @since 0.2.0
 * @category estimators
 */
export const grpoEstimator =
  (options: typeof GrpoEstimatorOptions.Type): AdvantageEstimator =>
  (batch) => ({
    advantage: groupAdvantages(batch.rewards, batch.groupSize, { scale: options.scale, eps: options.eps }),
  });
