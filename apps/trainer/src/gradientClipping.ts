import * as tf from "@tensorflow/tfjs-core";

/**
 * The global L2 norm of a list of gradients, `sqrt(Σ_k ‖g_k‖²)`, read back as a number
 * (NaN or Infinity when a gradient is not finite).
 *
 * @since 0.1.0
 * @category optimizer
 */
export const globalGradientNorm = (gradients: ReadonlyArray<tf.Tensor>): number => {
  if (gradients.length === 0) return 0;
  return tf.tidy(
    () => tf.sqrt(tf.addN(gradients.map((gradient) => tf.sum(tf.square(gradient))))).dataSync()[0]!,
  );
};

/**
 * Global gradient-norm clipping: when the global norm exceeds `maxNorm`, every gradient is scaled
 * by `maxNorm / (norm + 1e-6)` (the PyTorch `clip_grad_norm_` rule); otherwise they are returned
 * unchanged. The returned tensors are new (the caller disposes inputs and outputs); `maxNorm = 0`
 * disables clipping. `norm` is the norm before clipping.
 *
 * @since 0.1.0
 * @category optimizer
 */
export const clipByGlobalNorm = (
  gradients: ReadonlyArray<tf.Tensor>,
  maxNorm: number,
): { readonly gradients: ReadonlyArray<tf.Tensor>; readonly norm: number; readonly scale: number } => {
  const norm = globalGradientNorm(gradients);
  const scale = maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
  return {
    norm,
    scale,
    gradients: gradients.map((gradient) =>
      tf.tidy(() => (scale === 1 ? gradient.clone() : tf.mul(gradient, scale))),
    ),
  };
};
