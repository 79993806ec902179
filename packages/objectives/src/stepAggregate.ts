import type { StepTotals } from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import type { Aggregation } from "./policyGradientOptions.js";

/**
 * Options of {@link stepAggregate}.
 *
 * @since 0.2.0
 * @category building blocks
 */
export interface StepAggregateOptions {
  /** The constant of `seq-mean-token-sum-norm` (Dr.GRPO); default: the step's `paddedLength`. */
  readonly maxLength?: number | undefined;
}

/**
 * A micro-batch's additive share of an aggregation over the whole step. With `v` the per-token
 * values `[R, T]`, `m` the binary mask and `n_s = Σ_t m[s,t]`:
 * - `token-mean`: `Σ v·m / totals.tokens`;
 * - `seq-mean-token-mean`: `Σ_{s: n_s > 0} (Σ_t v·m / n_s) / totals.responseSequences`;
 * - `seq-mean-token-sum`: `Σ v·m / totals.responseSequences`;
 * - `seq-mean-token-sum-norm`: `Σ v·m / (totals.sequences · maxLength)`.
 *
 * Summed over the micro-batches of any split of a step it equals `maskedAggregate` of the unsplit
 * step (empty selections give 0). Differentiable in `values`; call it inside a `tf.tidy`.
 *
 * @since 0.2.0
 * @category building blocks
 */
export const stepAggregate = (
  values: tf.Tensor,
  mask: tf.Tensor,
  mode: Aggregation,
  totals: StepTotals,
  options: StepAggregateOptions = {},
): tf.Scalar =>
  tf.tidy(() => {
    const masked = tf.mul(values, mask);
    const over = (total: number, numerator: tf.Tensor): tf.Scalar =>
      (total > 0 ? tf.div(numerator, total) : tf.mul(numerator, 0)) as tf.Scalar;
    switch (mode) {
      case "token-mean":
        return over(totals.tokens, tf.sum(masked));
      case "seq-mean-token-sum":
        return over(totals.responseSequences, tf.sum(masked));
      case "seq-mean-token-sum-norm":
        return over(totals.sequences * (options.maxLength ?? totals.paddedLength), tf.sum(masked));
      case "seq-mean-token-mean": {
        const perSequence = tf.div(tf.sum(masked, 1), tf.maximum(tf.sum(mask, 1), 1));
        return over(totals.responseSequences, tf.sum(perSequence));
      }
    }
  });
