import * as tf from "@tensorflow/tfjs-core";
import { invalidInput, requireFloat } from "../internal/ops/invalidInput.js";

/**
 * The per-token KL estimators of KL(π ‖ π_ref).
 *
 * @since 0.1.0
 * @category ops
 */
export type KlEstimator = "k1" | "k2" | "k3" | "low-var-kl";

/**
 * @since 0.1.0
 * @category ops
 */
export const KL_ESTIMATORS: ReadonlyArray<KlEstimator> = ["k1", "k2", "k3", "low-var-kl"];

const OP = "klEstimate";

/** Below this |d|, `exp(d) - d - 1` is summed as its Taylor series (float32 cancellation otherwise). */
const SERIES_THRESHOLD = 1e-2;

/** `low-var-kl` clamps `d` to this range before `exp` so its gradient stays finite (as verl does). */
const LOW_VARIANCE_LOG_RATIO_BOUND = 20;

/** `exp(d) - d - 1`, accurate in float32 near 0 (series `d²/2 + d³/6 + d⁴/24`) and `expm1(d) - d` elsewhere. */
const k3 = (d: tf.Tensor): tf.Tensor =>
  tf.tidy(() => {
    // step(threshold - |d|) is 1 inside the series range; unlike `less`, `step` has a (zero) gradient.
    const small = tf.cast(tf.step(tf.sub(SERIES_THRESHOLD, tf.abs(d))), "bool");
    const nearZero = tf.where(small, d, tf.zerosLike(d));
    const series = tf.mul(
      tf.square(nearZero),
      tf.add(0.5, tf.mul(nearZero, tf.add(1 / 6, tf.mul(nearZero, 1 / 24)))),
    );
    const farFromZero = tf.where(small, tf.fill(d.shape, 1), d);
    const direct = tf.sub(tf.expm1(farFromZero), farFromZero);
    return tf.where(small, series, direct);
  });

/**
 * Per-token estimate of KL(π ‖ π_ref) from log-probabilities of the sampled tokens, with
 * `d = logpRef - logp`:
 * - `k1 = -d` (unbiased, can be negative),
 * - `k2 = d² / 2`,
 * - `k3 = exp(d) - d - 1` (non-negative, low variance; computed without float32 cancellation near 0),
 * - `low-var-kl = clamp(k3, -10, 10)` (`d` is first clamped to `[-20, 20]`, which changes no value —
 *   `k3` already exceeds 10 there — but keeps the gradient finite).
 *
 * Element-wise: `logp` and `logpRef` must have the same shape; the result has that shape.
 * Differentiable in both arguments.
 *
 * @example
 * ```ts
 * const kl = klEstimate(logp, logpRef, "k3");
 * ```
 * @since 0.1.0
 * @category ops
 */
export const klEstimate = (logp: tf.Tensor, logpRef: tf.Tensor, kind: KlEstimator): tf.Tensor => {
  requireFloat(OP, "logp", logp);
  requireFloat(OP, "logpRef", logpRef);
  if (!tf.util.arraysEqual(logp.shape, logpRef.shape)) {
    throw invalidInput(OP, "logpRef", `shape [${logpRef.shape}] differs from logp's [${logp.shape}]`);
  }
  if (!KL_ESTIMATORS.includes(kind)) {
    throw invalidInput(OP, "kind", `expected one of ${KL_ESTIMATORS.join(", ")}, got ${String(kind)}`);
  }
  return tf.tidy(() => {
    const d = tf.sub(logpRef, logp);
    switch (kind) {
      case "k1":
        return tf.neg(d);
      case "k2":
        return tf.mul(tf.square(d), 0.5);
      case "k3":
        return k3(d);
      case "low-var-kl": {
        const bounded = tf.clipByValue(d, -LOW_VARIANCE_LOG_RATIO_BOUND, LOW_VARIANCE_LOG_RATIO_BOUND);
        return tf.clipByValue(k3(bounded), -10, 10);
      }
    }
  });
};
