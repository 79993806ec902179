import * as tf from "@tensorflow/tfjs-core";

/**
 * Below this many rows on the other side the transposed-operand product is cheaper than a copy of
 * the operand: measured on tfjs-backend-wasm 4.22 (SIMD, one thread), `matMul(x, W, false, true)`
 * with `W` `[151936, 256]` costs ~67 ms per row of `x`, a transpose of `W` ~400 ms once, after
 * which the plain product costs ~5 ms per row.
 */
const TRANSPOSE_FROM_ROWS = 8;

const kernelFunc = (kernelName: string): tf.KernelFunc => {
  const kernel = tf.getKernel(kernelName, "wasm");
  if (kernel === undefined) throw new Error(`BatchMatMul on wasm needs the wasm ${kernelName} kernel`);
  return kernel.kernelFunc;
};

/** The operand with its last two axes swapped, as a new backend buffer (not tracked by the engine). */
const swapLastAxes = (x: tf.TensorInfo, backend: tf.KernelBackend): tf.TensorInfo => {
  const rank = x.shape.length;
  const perm = [...Array.from({ length: rank - 2 }, (_, axis) => axis), rank - 1, rank - 2];
  return kernelFunc("Transpose")({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
};

interface BatchMatMulAttributes {
  readonly transposeA: boolean;
  readonly transposeB: boolean;
}

/**
 * Wraps tfjs-backend-wasm's `BatchMatMul`, whose transposed-operand path (`transposeA` or
 * `transposeB`) runs at about 1 GFLOP/s against ~20 for the plain one: when the other operand has
 * at least {@link TRANSPOSE_FROM_ROWS} rows, the operand is transposed first (one copy, freed before
 * returning) and the plain product is taken. Every matmul gradient takes that path
 * (`dA = dY·Bᵀ`, `dB = Aᵀ·dY`), so this speeds up training on wasm by up to ~10×; results are
 * the same products, summed in the same order by the same kernel.
 */
export const transposingBatchMatMul =
  (original: tf.KernelFunc): tf.KernelFunc =>
  (args) => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttributes;
    const rowsOfA = transposeA ? a.shape[a.shape.length - 1]! : a.shape[a.shape.length - 2]!;
    const columnsOfB = transposeB ? b.shape[b.shape.length - 2]! : b.shape[b.shape.length - 1]!;
    const kernelBackend = backend as tf.KernelBackend;
    const swapA = transposeA && columnsOfB >= TRANSPOSE_FROM_ROWS;
    const swapB = transposeB && rowsOfA >= TRANSPOSE_FROM_ROWS;
    if (!swapA && !swapB) return original(args);
    const left = swapA ? swapLastAxes(a, kernelBackend) : a;
    const right = swapB ? swapLastAxes(b, kernelBackend) : b;
    try {
      return original({
        inputs: { a: left, b: right },
        backend,
        attrs: { ...attrs, transposeA: transposeA && !swapA, transposeB: transposeB && !swapB },
      });
    } finally {
      if (swapA) kernelBackend.disposeData(left.dataId);
      if (swapB) kernelBackend.disposeData(right.dataId);
    }
  };
