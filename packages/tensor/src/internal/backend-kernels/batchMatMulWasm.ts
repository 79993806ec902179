import * as tf from "@tensorflow/tfjs-core";

/**
 * Below this many rows on the other side the transposed-operand product is cheaper than a copy of
 * the operand: measured on tfjs-backend-wasm 4.22 (SIMD, one thread), `matMul(x, W, false, true)`
 * with `W` `[151936, 256]` costs ~67 ms per row of `x`, a transpose of `W` ~400 ms once, after
 * which the plain product costs ~5 ms per row.
 */
const TRANSPOSE_FROM_ROWS = 8;

/**
 * Below this many multiply-adds (per batch) a transposed product stays on tfjs-wasm's own path: the
 * two extra transposes of {@link flippedProduct} cost more kernel calls than its speed saves (e.g.
 * the per-head attention scores of one decoded token).
 */
const FLIP_FROM_MULTIPLY_ADDS = 2 ** 16;

/**
 * Right operands smaller than this (1 MiB of float32) keep tfjs-wasm's cached packing: their packed
 * copies cost little memory, and a small product is dominated by per-call work.
 */
const ALIAS_FROM_ELEMENTS = 2 ** 18;

const sizeOf = (x: tf.TensorInfo): number => x.shape.reduce((product, extent) => product * extent, 1);

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

/** An operand handed to the kernel, and how to free what was made for it (nothing when it is the input). */
interface Operand {
  readonly info: tf.TensorInfo;
  readonly release: () => void;
}

const asGiven = (info: tf.TensorInfo): Operand => ({ info, release: () => {} });

/** The operand with its last two axes swapped, freed on release. */
const transposedCopy = (x: tf.TensorInfo, backend: tf.KernelBackend): Operand => {
  const info = swapLastAxes(x, backend);
  return { info, release: () => backend.disposeData(info.dataId) };
};

/** The parts of tfjs-backend-wasm 4.22's `BackendWasm` an alias needs (its buffer registry). */
interface WasmBufferRegistry {
  readonly dataIdMap: {
    get(dataId: tf.DataId): { readonly memoryOffset: number } | undefined;
    set(dataId: tf.DataId, data: object): void;
    delete(dataId: tf.DataId): void;
  };
  dataIdNextNumber: number;
  readonly wasm: {
    readonly tfjs: {
      registerTensor(id: number, size: number, memoryOffset: number): void;
      disposeData(id: number): void;
    };
  };
}

/**
 * A second backend id for `x`'s buffer (no copy), and how to drop it again without freeing the
 * buffer. XNNPACK packs a product's right operand and tfjs-backend-wasm caches the packed copy under
 * that operand's id until the id is disposed: for a long-lived weight as the plain right operand
 * (`dY · W`, the backward of `matMul(x, W, false, true)`; `x · W` with `[in, out]` weights) that is a
 * second copy of the weight for its lifetime — 519 MiB for Qwen2.5-0.5B's `[151936, 896]` LM head
 * in a naive log-prob backward. Under a temporary id the packed copy is freed right after the
 * product.
 */
const temporaryAlias = (x: tf.TensorInfo, backend: tf.KernelBackend): Operand => {
  const registry = backend as unknown as Partial<WasmBufferRegistry>;
  const tfjs = registry.wasm?.tfjs;
  const data = registry.dataIdMap?.get(x.dataId);
  // Another tfjs-backend-wasm layout: multiply the operand itself (correct, only without the saving).
  if (
    data === undefined ||
    tfjs === undefined ||
    typeof tfjs.registerTensor !== "function" ||
    typeof tfjs.disposeData !== "function" ||
    typeof registry.dataIdNextNumber !== "number"
  )
    return asGiven(x);
  const id = registry.dataIdNextNumber++;
  const dataId = { id };
  const map = registry.dataIdMap!;
  const size = sizeOf(x);
  map.set(dataId, {
    id,
    memoryOffset: data.memoryOffset,
    shape: x.shape,
    dtype: x.dtype,
    refCount: 1,
  });
  tfjs.registerTensor(id, size, data.memoryOffset);
  return {
    info: { dataId, shape: x.shape, dtype: x.dtype } as tf.TensorInfo,
    release: () => {
      tfjs.disposeData(id); // runs the disposal callbacks: the cached packed operand
      map.delete(dataId);
    },
  };
};

interface BatchMatMulAttributes {
  readonly transposeA: boolean;
  readonly transposeB: boolean;
}

/**
 * `A · Bᵀ` as `(B · Aᵀ)ᵀ`: `B` becomes the left operand, which XNNPACK reads in place (only the
 * right operand is packed), so the weight of a linear layer (`x · Wᵀ`, HF's layout) is neither
 * copied nor packed — only `A` and the `[M, N]` output are transposed, which is cheap while `A` has
 * few rows (decoding, micro-batches).
 */
const flippedProduct = (
  original: tf.KernelFunc,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  backend: tf.KernelBackend,
) => {
  const aTransposed = swapLastAxes(a, backend);
  let product: tf.TensorInfo | undefined;
  try {
    product = original({
      inputs: { a: b, b: aTransposed },
      backend,
      attrs: { transposeA: false, transposeB: false },
    }) as tf.TensorInfo;
    return swapLastAxes(product, backend);
  } finally {
    backend.disposeData(aTransposed.dataId);
    if (product !== undefined) backend.disposeData(product.dataId);
  }
};

/**
 * Wraps tfjs-backend-wasm's `BatchMatMul`, whose transposed-operand path (`transposeA` or
 * `transposeB`) runs at about 1 GFLOP/s against ~20 for the plain one, so that every product runs
 * on the plain path:
 *
 * - `A · Bᵀ` (every linear layer in HF's layout, and `dA = dY·Bᵀ`) as `(B · Aᵀ)ᵀ` when copying `A`
 *   and the output costs no more than copying and packing `B` (see `flippedProduct`);
 * - otherwise a transposed operand is transposed first (one copy, freed before returning) when the
 *   other operand has at least {@link TRANSPOSE_FROM_ROWS} rows (`dB = Aᵀ·dY`).
 *
 * This speeds up training on wasm by up to ~10×; results are the same dot products. A right operand
 * of at least {@link ALIAS_FROM_ELEMENTS} goes in under a temporary id (see `temporaryAlias`), so no
 * packed copy of it outlives the product.
 */
export const transposingBatchMatMul =
  (original: tf.KernelFunc): tf.KernelFunc =>
  (args) => {
    const { inputs, backend, attrs } = args;
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttributes;
    const rowsOfA = transposeA ? a.shape[a.shape.length - 1]! : a.shape[a.shape.length - 2]!;
    const inner = transposeA ? a.shape[a.shape.length - 2]! : a.shape[a.shape.length - 1]!;
    const columnsOfB = transposeB ? b.shape[b.shape.length - 2]! : b.shape[b.shape.length - 1]!;
    const kernelBackend = backend as tf.KernelBackend;
    const flip =
      transposeB &&
      !transposeA &&
      rowsOfA * inner * columnsOfB >= FLIP_FROM_MULTIPLY_ADDS &&
      rowsOfA * (inner + columnsOfB) <= 2 * columnsOfB * inner;
    if (flip) return flippedProduct(original, a, b, kernelBackend);
    const swapA = transposeA && columnsOfB >= TRANSPOSE_FROM_ROWS;
    const swapB = transposeB && rowsOfA >= TRANSPOSE_FROM_ROWS;
    const left = swapA ? transposedCopy(a, kernelBackend) : asGiven(a);
    const right = swapB
      ? transposedCopy(b, kernelBackend)
      : sizeOf(b) >= ALIAS_FROM_ELEMENTS
        ? temporaryAlias(b, kernelBackend)
        : asGiven(b);
    try {
      return original({
        inputs: { a: left.info, b: right.info },
        backend,
        attrs: { ...attrs, transposeA: transposeA && !swapA, transposeB: transposeB && !swapB },
      });
    } finally {
      left.release();
      right.release();
    }
  };
