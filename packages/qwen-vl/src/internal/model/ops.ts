import * as tf from "@tensorflow/tfjs-core";

/** `x / √(mean(x²) + eps) ⊙ weight` over the last axis (Qwen2 RMSNorm). */
export const rmsNorm = (x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor =>
  tf.tidy(() => {
    const variance = tf.mean(tf.square(x), -1, true);
    return tf.mul(weight, tf.mul(x, tf.rsqrt(tf.add(variance, eps))));
  });

/** SiLU, `z·σ(z)`. */
export const silu = (z: tf.Tensor): tf.Tensor => tf.tidy(() => tf.mul(z, tf.sigmoid(z)));

/** The exact GELU, `½·z·(1 + erf(z/√2))`. */
export const gelu = (z: tf.Tensor): tf.Tensor =>
  tf.tidy(() => tf.mul(tf.mul(z, 0.5), tf.add(tf.erf(tf.mul(z, Math.SQRT1_2)), 1)));

/** `concat(−x[d/2:], x[:d/2])` over the last axis. */
export const rotateHalf = (x: tf.Tensor): tf.Tensor =>
  tf.tidy(() => {
    const [first, second] = tf.split(x, 2, -1) as [tf.Tensor, tf.Tensor];
    return tf.concat([tf.neg(second), first], -1);
  });

/** Rotary embedding `x ⊙ cos + rotate_half(x) ⊙ sin` (cos/sin broadcast against x). */
export const applyRotary = (x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor =>
  tf.tidy(() => tf.add(tf.mul(x, cos), tf.mul(rotateHalf(x), sin)));

/** float32 inverse frequencies `1 / base^(2j/dim)` for j < dim/2, rounded as the reference does. */
export const inverseFrequencies = (dim: number, base: number): Float32Array => {
  const out = new Float32Array(dim / 2);
  for (let j = 0; j < dim / 2; j++) {
    const exponent = Math.fround((2 * j) / dim);
    out[j] = Math.fround(1 / Math.fround(base ** exponent));
  }
  return out;
};

/** An additive mask value that zeroes a softmax weight but keeps fully masked rows finite. */
export const maskedScore = -1e9;

/** `tf.tidy` for a structured result (objects and readonly arrays of tensors), keeping its type. */
export const tidyStructured = <T>(scope: () => T): T =>
  tf.tidy(scope as unknown as () => tf.TensorContainer) as unknown as T;

/**
 * Batched `a·b` (or `a·bᵀ`) over equal leading dimensions. On wasm, a rank > 2 `BatchMatMul` and any
 * `transposeB` product miss the XNNPACK path (measured ~5× slower), so there the product is taken
 * slice by slice as 2-D matmuls with `b` transposed explicitly. Same numbers either way.
 */
export const batchedMatMul = (a: tf.Tensor, b: tf.Tensor, transposeB: boolean): tf.Tensor =>
  tf.tidy(() => {
    if (tf.getBackend() !== "wasm") return tf.matMul(a, b, false, transposeB);
    const lead = a.shape.slice(0, -2);
    const count = lead.reduce((x, y) => x * y, 1);
    const [rows, inner] = a.shape.slice(-2) as [number, number];
    const [bRows, bColumns] = b.shape.slice(-2) as [number, number];
    const left = tf.unstack(tf.reshape(a, [count, rows, inner]));
    const right = tf.unstack(tf.reshape(b, [count, bRows, bColumns]));
    const products = left.map((slice, index) =>
      tf.matMul(
        slice as tf.Tensor2D,
        (transposeB ? tf.transpose(right[index]!) : right[index]!) as tf.Tensor2D,
      ),
    );
    const columns = transposeB ? bRows : bColumns;
    return tf.reshape(tf.stack(products), [...lead, rows, columns]);
  });
