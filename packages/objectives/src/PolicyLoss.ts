import type * as tf from "@tensorflow/tfjs-core";

/**
 * What a policy loss receives for one micro-batch: `[R, T]` tensors with padding already zeroed,
 * and `advantages` as `[R]` (one per sequence) or `[R, T]` (per token, e.g. KL folded into the
 * reward).
 *
 * @since 0.2.0
 * @category components
 */
export interface PolicyLossInput {
  readonly logp: tf.Tensor;
  readonly logpOld: tf.Tensor;
  readonly advantages: tf.Tensor;
  readonly mask: tf.Tensor;
}

/**
 * What a policy loss returns: per-token losses `[R, T]` (aggregated by the objective's
 * `aggregation`, multiplied by rollout-correction `tokenWeights` when given) and a 0/1 indicator
 * `[R, T]` of the tokens whose clip (or cap, or gate) was active, for `clipFraction`.
 *
 * @since 0.2.0
 * @category components
 */
export interface PolicyLossOutput {
  readonly perToken: tf.Tensor;
  readonly clipped: tf.Tensor;
}

/**
 * A policy loss maps `(logp, logpOld, advantages, mask)` to per-token losses; called inside a
 * `tf.tidy`, differentiable in `logp`. Registered by name in `policyLossRegistry`.
 *
 * @since 0.2.0
 * @category components
 */
export type PolicyLoss = (input: PolicyLossInput) => PolicyLossOutput;
