import * as tf from "@tensorflow/tfjs-core";

/** `x / √(mean(x²) + eps) ⊙ weight` over the last axis (Qwen2 RMSNorm). */
export const rmsNorm = (x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor =>
  tf.tidy(() => {
    const variance = tf.mean(tf.square(x), -1, true);
    return tf.mul(weight, tf.mul(x, tf.rsqrt(tf.add(variance, eps))));
  });

/** SiLU, `z·σ(z)`. */
export const silu = (z: tf.Tensor): tf.Tensor => tf.tidy(() => tf.mul(z, tf.sigmoid(z)));

/**
 * SwiGLU `silu(gate)·up`, the same forward ops as `tf.mul(silu(gate), up)`, with a gradient that
 * keeps only `gate` and `up` for the backward pass (σ and SiLU are recomputed there): tfjs' own
 * gradient would save σ(gate), SiLU(gate) and `up` besides `gate` — three more `[N, intermediate]`
 * tensors per layer on the tape. Gradients: `d up = dy·silu(g)`,
 * `d gate = dy·up·σ(g)·(1 + g·(1 − σ(g)))`.
 */
export const swiGlu = (gate: tf.Tensor, up: tf.Tensor): tf.Tensor =>
  tf.customGrad((g, u, save) => {
    (save as tf.GradSaveFunc)([g as tf.Tensor, u as tf.Tensor]);
    return {
      value: tf.tidy(() => tf.mul(silu(g as tf.Tensor), u as tf.Tensor)),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedGate, savedUp] = saved as [tf.Tensor, tf.Tensor];
        return tf.tidy(() => {
          const sigma = tf.sigmoid(savedGate);
          const activated = tf.mul(savedGate, sigma);
          const slope = tf.mul(sigma, tf.add(1, tf.mul(savedGate, tf.sub(1, sigma))));
          const upstream = dy as tf.Tensor;
          return [tf.mul(tf.mul(upstream, savedUp), slope), tf.mul(upstream, activated)];
        });
      },
    };
  })(gate, up);

/** The exact GELU, `½·z·(1 + erf(z/√2))`. */
export const gelu = (z: tf.Tensor): tf.Tensor =>
  tf.tidy(() => tf.mul(tf.mul(z, 0.5), tf.add(tf.erf(tf.mul(z, Math.SQRT1_2)), 1)));

/** `concat(−x[d/2:], x[:d/2])` over the last axis. */
export const rotateHalf = (x: tf.Tensor): tf.Tensor =>
  tf.tidy(() => {
    const [first, second] = tf.split(x, 2, -1) as [tf.Tensor, tf.Tensor];
    return tf.concat([tf.neg(second), first], -1);
  });

/** The transpose of {@link rotateHalf}: `concat(x[d/2:], −x[:d/2])`. */
const rotateHalfTransposed = (x: tf.Tensor): tf.Tensor =>
  tf.tidy(() => {
    const [first, second] = tf.split(x, 2, -1) as [tf.Tensor, tf.Tensor];
    return tf.concat([second, tf.neg(first)], -1);
  });

/**
 * Rotary embedding `x ⊙ cos + rotate_half(x) ⊙ sin` (cos/sin broadcast against x). The map is
 * linear in `x`, so its gradient `dy ⊙ cos + rotate_halfᵀ(dy ⊙ sin)` needs only the tables: no
 * copy of `x`, of its halves or of the two products stays on the tape (tfjs' own gradient of the
 * same ops would keep five tensors of `x`'s size).
 */
export const applyRotary = (x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor =>
  tf.customGrad((input, save) => {
    (save as tf.GradSaveFunc)([cos, sin]);
    const x = input as tf.Tensor;
    return {
      value: tf.tidy(() => tf.add(tf.mul(x, cos), tf.mul(rotateHalf(x), sin))),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedCos, savedSin] = saved as [tf.Tensor, tf.Tensor];
        const upstream = dy as tf.Tensor;
        return tf.tidy(() =>
          tf.add(tf.mul(upstream, savedCos), rotateHalfTransposed(tf.mul(upstream, savedSin))),
        );
      },
    };
  })(x);

/**
 * `softmax(scores · scale + mask)` over the last axis (the same forward ops), with a gradient that
 * keeps only the probabilities `p`: `d scores = scale · (p ⊙ dy − p · Σ(p ⊙ dy))`. tfjs' own
 * gradient of the three ops would also keep the raw and the scaled scores — two more
 * `[B, heads, S, S]` tensors per layer. `mask` (additive, broadcast) gets no gradient.
 */
export const scaledMaskedSoftmax = (
  scores: tf.Tensor,
  scale: number,
  mask: tf.Tensor | undefined,
): tf.Tensor =>
  tf.customGrad((input, save) => {
    const probabilities = tf.tidy(() => {
      const scaled = tf.mul(input as tf.Tensor, scale);
      return tf.softmax(mask === undefined ? scaled : tf.add(scaled, mask));
    });
    (save as tf.GradSaveFunc)([probabilities]);
    return {
      value: probabilities,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [p] = saved as [tf.Tensor];
        return tf.tidy(() => {
          const weighted = tf.mul(dy as tf.Tensor, p);
          return tf.mul(tf.sub(weighted, tf.mul(tf.sum(weighted, -1, true), p)), scale);
        });
      },
    };
  })(scores);

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
