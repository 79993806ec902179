import * as tf from "@tensorflow/tfjs-core";
import type { Aggregation, KlEstimator } from "../policyGradientOptions.js";

/** `x` where the mask is 1, 0 elsewhere (so padding values, even non-finite ones, never leak in). */
export const masked = (x: tf.Tensor, mask: tf.Tensor): tf.Tensor =>
  tf.where(tf.greater(mask, 0), x, tf.zerosLike(x));

/** Per-token KL estimator of KL(π ‖ π_ref) with `d = logpRef − logp`. */
export const klTokens = (logp: tf.Tensor, logpRef: tf.Tensor, kind: KlEstimator): tf.Tensor => {
  const d = tf.sub(logpRef, logp);
  if (kind === "k1") return tf.neg(d);
  if (kind === "k2") return tf.div(tf.square(d), 2);
  const k3 = tf.sub(tf.sub(tf.exp(d), d), 1);
  return kind === "k3" ? k3 : tf.clipByValue(k3, -10, 10);
};

/** Reduce `[S, T]` token values to a scalar under `mode` (values must already be 0 at padding). */
export const aggregateTokens = (
  values: tf.Tensor,
  mask: tf.Tensor,
  mode: Aggregation,
  maxLength: number,
): tf.Scalar => {
  const [samples = 1] = values.shape;
  const rowSums = tf.sum(tf.mul(values, mask), 1);
  if (mode === "token-mean") return tf.div(tf.sum(rowSums), tf.maximum(tf.sum(mask), 1));
  if (mode === "seq-mean-token-sum") return tf.mean(rowSums);
  if (mode === "seq-mean-token-sum-norm") return tf.div(tf.sum(rowSums), samples * maxLength);
  return tf.mean(tf.div(rowSums, tf.maximum(tf.sum(mask, 1), 1)));
};

/** Per-sequence masked mean over tokens, `[S, T] → [S]` (0 for an empty sequence). */
export const sequenceMean = (values: tf.Tensor, mask: tf.Tensor): tf.Tensor =>
  tf.div(tf.sum(tf.mul(values, mask), 1), tf.maximum(tf.sum(mask, 1), 1));

/** Per-token PPO-clip loss and a 0/1 tensor marking tokens whose clipped branch is active. */
export const clippedSurrogateTokens = (
  logp: tf.Tensor,
  logpOld: tf.Tensor,
  advantages: tf.Tensor,
  options: { readonly epsLow: number; readonly epsHigh: number; readonly dualClip?: number | undefined },
): { readonly loss: tf.Tensor; readonly clipped: tf.Tensor } => {
  const ratio = tf.exp(tf.sub(logp, logpOld));
  const unclipped = tf.mul(ratio, advantages);
  const clippedTerm = tf.mul(tf.clipByValue(ratio, 1 - options.epsLow, 1 + options.epsHigh), advantages);
  const loss = tf.neg(tf.minimum(unclipped, clippedTerm));
  const clipped = tf.cast(tf.less(clippedTerm, unclipped), "float32");
  if (options.dualClip === undefined) return { loss, clipped };
  const bound = tf.mul(advantages, -options.dualClip);
  const negative = tf.less(tf.broadcastTo(advantages, loss.shape), 0);
  return { loss: tf.where(negative, tf.minimum(loss, bound), loss), clipped };
};
