import * as tf from "@tensorflow/tfjs-core";
import {
  invalidInput,
  requireFloat,
  requirePositiveInteger,
  requireRank,
} from "../internal/ops/invalidInput.js";

/**
 * How per-token values become one number.
 *
 * @since 0.1.0
 * @category ops
 */
export type AggregationMode =
  | "token-mean"
  | "seq-mean-token-mean"
  | "seq-mean-token-sum"
  | "seq-mean-token-sum-norm";

/**
 * @since 0.1.0
 * @category ops
 */
export const AGGREGATION_MODES: ReadonlyArray<AggregationMode> = [
  "token-mean",
  "seq-mean-token-mean",
  "seq-mean-token-sum",
  "seq-mean-token-sum-norm",
];

/**
 * Options of {@link maskedAggregate}.
 *
 * @since 0.1.0
 * @category ops
 */
export interface MaskedAggregateOptions {
  /** The constant length of `seq-mean-token-sum-norm` (Dr.GRPO's max response length). Default: `T`. */
  readonly maxLength?: number;
}

const OP = "maskedAggregate";

/** `numerator / denominator`, or 0 where the denominator is 0 (no `NaN`, also in the gradient). */
const safeDivide = (numerator: tf.Tensor, denominator: tf.Tensor): tf.Tensor =>
  tf.tidy(() => {
    const empty = tf.lessEqual(denominator, 0);
    const quotient = tf.div(numerator, tf.where(empty, tf.onesLike(denominator), denominator));
    return tf.where(empty, tf.zerosLike(quotient), quotient);
  });

/**
 * Reduce per-token `values [S, T]` under a `mask [S, T]` (1 = response token, 0 = padding) to a
 * scalar. With `m` the mask and `n_s = Σ_t m[s,t]`:
 * - `token-mean`: `Σ_{s,t} v·m / Σ_{s,t} m` (every token weighs the same; DAPO, APO reference);
 * - `seq-mean-token-mean`: mean over sequences of `Σ_t v·m / n_s` (original GRPO);
 * - `seq-mean-token-sum`: mean over sequences of `Σ_t v·m`;
 * - `seq-mean-token-sum-norm`: `Σ_{s,t} v·m / (S · maxLength)` (Dr.GRPO; `maxLength` defaults to `T`).
 *
 * The two `seq-mean` modes average over the sequences that have at least one token (padding rows
 * with an all-zero mask do not dilute the mean). Empty selections give 0, never `NaN`.
 * Differentiable in `values`.
 *
 * @example
 * ```ts
 * const loss = maskedAggregate(perTokenLoss, mask, "token-mean"); // scalar
 * ```
 * @since 0.1.0
 * @category ops
 */
export const maskedAggregate = (
  values: tf.Tensor2D,
  mask: tf.Tensor2D,
  mode: AggregationMode,
  options: MaskedAggregateOptions = {},
): tf.Scalar => {
  requireRank(OP, "values", values, 2);
  requireFloat(OP, "values", values);
  if (!tf.util.arraysEqual(values.shape, mask.shape)) {
    throw invalidInput(OP, "mask", `shape [${mask.shape}] differs from values' [${values.shape}]`);
  }
  if (!AGGREGATION_MODES.includes(mode)) {
    throw invalidInput(OP, "mode", `expected one of ${AGGREGATION_MODES.join(", ")}, got ${String(mode)}`);
  }
  requirePositiveInteger(OP, "maxLength", options.maxLength);
  const [sequences, length] = values.shape;
  return tf.tidy(() => {
    const weights = tf.cast(mask, "float32");
    const masked = tf.mul(values, weights);
    switch (mode) {
      case "token-mean":
        return safeDivide(tf.sum(masked), tf.sum(weights)) as tf.Scalar;
      case "seq-mean-token-sum-norm":
        return tf.div(tf.sum(masked), sequences * (options.maxLength ?? length)) as tf.Scalar;
      default: {
        const tokens = tf.sum(weights, 1);
        const sums = tf.sum(masked, 1);
        const perSequence = mode === "seq-mean-token-mean" ? safeDivide(sums, tokens) : sums;
        const present = tf.cast(tf.greater(tokens, 0), "float32");
        return safeDivide(tf.sum(tf.mul(perSequence, present)), tf.sum(present)) as tf.Scalar;
      }
    }
  });
};
