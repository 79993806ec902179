import * as tf from "@tensorflow/tfjs-core";

const constant = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => ({
  value: tf.clone(inputs[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor),
}));

/** `x` as a constant of the gradient: the same values, a zero gradient. */
export const stopGradient = (x: tf.Tensor): tf.Tensor => constant(x);
