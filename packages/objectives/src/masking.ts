import * as tf from "@tensorflow/tfjs-core";

/**
 * The mask as float32 0/1 (`mask > 0`). Call inside a `tf.tidy`.
 *
 * @since 0.2.0
 * @category building blocks
 */
export const binaryMask = (mask: tf.Tensor): tf.Tensor =>
  tf.cast(tf.greater(tf.cast(mask, "float32"), 0), "float32");

/**
 * `values` where `mask` is 1, 0 elsewhere, so padding values (even non-finite ones) never leak into
 * a loss or its gradient. Call inside a `tf.tidy`.
 *
 * @since 0.2.0
 * @category building blocks
 */
export const maskedValues = (values: tf.Tensor, mask: tf.Tensor): tf.Tensor =>
  tf.where(tf.greater(mask, 0), values, tf.zerosLike(values));

/**
 * Per-sequence masked mean over tokens, `[R, T] → [R]` (0 for a sequence without tokens). Call
 * inside a `tf.tidy`.
 *
 * @since 0.2.0
 * @category building blocks
 */
export const maskedSequenceMean = (values: tf.Tensor, mask: tf.Tensor): tf.Tensor =>
  tf.div(tf.sum(tf.mul(values, mask), 1), tf.maximum(tf.sum(mask, 1), 1));

/**
 * `x` in the forward pass, no gradient in the backward pass (PyTorch's `detach`): for weights of a
 * loss that must not be differentiated, e.g. CISPO's clipped importance weight.
 *
 * @since 0.2.0
 * @category building blocks
 */
export const stopGradient = (x: tf.Tensor): tf.Tensor =>
  tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: tf.clone(inputs[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  }))(x);
