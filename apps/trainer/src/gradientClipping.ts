import * as tf from "@tensorflow/tfjs-core";

/**
 * The global L2 norm of a list of gradients, `sqrt(Σ_k ‖g_k‖²)`, read back (asynchronously) as a
 * number (NaN or Infinity when a gradient is not finite).
 *
 * @since 0.1.0
 * @category optimizer
 */
export const globalGradientNorm = async (gradients: ReadonlyArray<tf.Tensor>): Promise<number> => {
  if (gradients.length === 0) return 0;
  const norm = tf.tidy(() => tf.sqrt(tf.addN(gradients.map((gradient) => tf.sum(tf.square(gradient))))));
  try {
    return (await norm.data())[0]!;
  } finally {
    norm.dispose();
  }
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
export const clipByGlobalNorm = async (
  gradients: ReadonlyArray<tf.Tensor>,
  maxNorm: number,
): Promise<{
  readonly gradients: ReadonlyArray<tf.Tensor>;
  readonly norm: number;
  readonly scale: number;
}> => {
  const norm = await globalGradientNorm(gradients);
  const scale = maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
  return {
    norm,
    scale,
    gradients: gradients.map((gradient) =>
      tf.tidy(() => (scale === 1 ? gradient.clone() : tf.mul(gradient, scale))),
    ),
  };
};
