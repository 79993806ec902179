import * as tf from "@tensorflow/tfjs-core";

/** `dy` summed over the axes that `shape` broadcast along, in `shape` (a broadcast add's gradient). */
const reduceToShape = (dy: tf.Tensor, shape: ReadonlyArray<number>): tf.Tensor => {
  const axes = tf.backend_util.getReductionAxes(shape as number[], dy.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, shape as number[]);
};

/**
 * `a + b` with broadcasting, whose gradient keeps nothing for the backward pass: tfjs' `add`
 * keeps both inputs (it reads only their shapes), so every bias, LoRA and residual sum would hold
 * two more activations per layer on the tape. Same forward op, same gradient ops.
 */
export const addWithoutSaving = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
  const [shapeA, shapeB] = [a.shape, b.shape];
  return tf.customGrad((x, y) => ({
    value: tf.add(x as tf.Tensor, y as tf.Tensor),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) =>
      tf.tidy(() => [reduceToShape(dy as tf.Tensor, shapeA), reduceToShape(dy as tf.Tensor, shapeB)]),
  }))(a, b);
};

/**
 * `x / √(mean(x²) + eps) ⊙ weight` over the last axis (Qwen2 RMSNorm). Same forward ops as the
 * composite; the gradient keeps only `x` and the per-row `r = 1/√(mean(x²) + eps)` (tfjs' own
 * would also keep `x²` and `x·r`, two more activations): with `g = dy ⊙ weight`,
 * `dx = r·g − x·r³·mean(g ⊙ x)` and `d weight = Σ_rows dy ⊙ x·r`.
 */
export const rmsNorm = (x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor =>
  tf.customGrad((input, scale, save) => {
    const rows = input as tf.Tensor;
    const inverse = tf.tidy(() => tf.rsqrt(tf.add(tf.mean(tf.square(rows), -1, true), eps)));
    (save as tf.GradSaveFunc)([rows, inverse]);
    return {
      value: tf.tidy(() => tf.mul(scale as tf.Tensor, tf.mul(rows, inverse))),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedX, r] = saved as [tf.Tensor, tf.Tensor];
        const upstream = dy as tf.Tensor;
        return tf.tidy(() => {
          const g = tf.mul(upstream, scale as tf.Tensor);
          const projection = tf.mean(tf.mul(g, savedX), -1, true);
          const dx = tf.sub(tf.mul(g, r), tf.mul(savedX, tf.mul(tf.pow(r, 3), projection)));
          const dWeight = reduceToShape(tf.mul(upstream, tf.mul(savedX, r)), (scale as tf.Tensor).shape);
          return [dx, dWeight];
        });
      },
    };
  })(x, weight);

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
        const upstream = dy as tf.Tensor;
        // One `[N, intermediate]` temporary at a time besides σ and the results: this backward is
        // where a checkpointed layer's recomputation peaks.
        const sigma = tf.sigmoid(savedGate);
        const dUp = tf.tidy(() => tf.mul(upstream, tf.mul(savedGate, sigma)));
        const inner = tf.tidy(() => tf.add(1, tf.mul(savedGate, tf.sub(1, sigma))));
        const slope = tf.mul(sigma, inner);
        tf.dispose([sigma, inner]);
        const dGate = tf.tidy(() => tf.mul(tf.mul(upstream, savedUp), slope));
        slope.dispose();
        return [dGate, dUp];
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
        const weighted = tf.mul(dy as tf.Tensor, p);
        const centred = tf.tidy(() => tf.sub(weighted, tf.mul(tf.sum(weighted, -1, true), p)));
        weighted.dispose();
        const gradient = tf.mul(centred, scale);
        centred.dispose();
        return gradient;
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
 * Below this many multiply-adds per slice, one batched `BatchMatMul` call (tfjs-wasm's own loop)
 * beats a 2-D XNNPACK product per slice: each product pays a fixed cost (operator set-up, packing,
 * waking the thread pool) of ~0.1–0.2 ms. Decoding's attention is all such slices (`[7, 64]` by
 * `[64, T]` per row and key head): at 8 rows and T = 20, scores 0.24 ms batched against 2.1 ms
 * sliced, 2 threads.
 */
const SLICE_FROM_MULTIPLY_ADDS = 2 ** 15;

/** `a·b`, `aᵀ·b` or `a·bᵀ` over equal leading dimensions, slice by slice as plain 2-D products. */
const slicedProduct = (a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor =>
  tf.tidy(() => {
    const lead = a.shape.slice(0, -2);
    const count = lead.reduce((x, y) => x * y, 1);
    const [aRows, aColumns] = a.shape.slice(-2) as [number, number];
    const [bRows, bColumns] = b.shape.slice(-2) as [number, number];
    if (aRows * aColumns * (transposeB ? bRows : bColumns) < SLICE_FROM_MULTIPLY_ADDS)
      return tf.matMul(a, b, transposeA, transposeB);
    const left = tf.unstack(tf.reshape(a, [count, aRows, aColumns]));
    const right = tf.unstack(tf.reshape(b, [count, bRows, bColumns]));
    const products = left.map((slice, index) =>
      tf.matMul(
        (transposeA ? tf.transpose(slice) : slice) as tf.Tensor2D,
        (transposeB ? tf.transpose(right[index]!) : right[index]!) as tf.Tensor2D,
      ),
    );
    return tf.reshape(tf.stack(products), [
      ...lead,
      transposeA ? aColumns : aRows,
      transposeB ? bRows : bColumns,
    ]);
  });

/**
 * Batched `a·b` (or `a·bᵀ`) over equal leading dimensions. On wasm, a rank > 2 `BatchMatMul` and any
 * `transposeB` product miss the XNNPACK path (measured ~5× slower), so there the product is taken
 * slice by slice as 2-D matmuls with the transposed operand transposed explicitly — unless the
 * slices are small (decoding), where one batched call costs less than a product per slice. Same
 * numbers either way (up to float rounding). On wasm its gradient keeps only `a` and `b` themselves (the slices and transposed
 * copies the forward makes are not on the tape): `da = dy·b` / `dy·bᵀ`, `db = dyᵀ·a` / `aᵀ·dy`,
 * computed slice by slice the same way.
 */
export const batchedMatMul = (a: tf.Tensor, b: tf.Tensor, transposeB: boolean): tf.Tensor => {
  if (tf.getBackend() !== "wasm") return tf.tidy(() => tf.matMul(a, b, false, transposeB));
  return tf.customGrad((left, right, save) => {
    (save as tf.GradSaveFunc)([left as tf.Tensor, right as tf.Tensor]);
    return {
      value: slicedProduct(left as tf.Tensor, right as tf.Tensor, false, transposeB),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedA, savedB] = saved as [tf.Tensor, tf.Tensor];
        const upstream = dy as tf.Tensor;
        return transposeB
          ? [slicedProduct(upstream, savedB, false, false), slicedProduct(upstream, savedA, true, false)]
          : [slicedProduct(upstream, savedB, false, true), slicedProduct(savedA, upstream, true, false)];
      },
    };
  })(a, b);
};
