import * as tf from "@tensorflow/tfjs-core";

/** `x` where the mask is 1, 0 elsewhere (so padding values, even non-finite ones, never leak in). */
export const masked = (x: tf.Tensor, mask: tf.Tensor): tf.Tensor =>
  tf.where(tf.greater(mask, 0), x, tf.zerosLike(x));

/** Per-sequence masked mean over tokens, `[S, T] → [S]` (0 for an empty sequence). */
export const sequenceMean = (values: tf.Tensor, mask: tf.Tensor): tf.Tensor =>
  tf.div(tf.sum(tf.mul(values, mask), 1), tf.maximum(tf.sum(mask, 1), 1));
