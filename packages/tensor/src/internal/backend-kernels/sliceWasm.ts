import * as tf from "@tensorflow/tfjs-core";

/** The part of tfjs-backend-wasm's `BackendWasm` this kernel uses. */
export interface WasmHeapBackend {
  makeOutput(shape: Array<number>, dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * Copy the block `begin + [0, size)` of `source` (row-major `shape`) into `target`. Trailing axes
 * the block spans whole are merged with the first partial one before them into one contiguous run
 * (rows of a matrix: a single copy), so the loop runs once per run, not once per innermost row.
 */
export const copyBlock = (
  source: Float32Array | Int32Array | Uint8Array,
  target: Float32Array | Int32Array | Uint8Array,
  shape: ReadonlyArray<number>,
  begin: ReadonlyArray<number>,
  size: ReadonlyArray<number>,
): void => {
  const strides = tf.util.computeStrides(shape as Array<number>);
  const rank = shape.length;
  // `inner`: the first axis of the contiguous run (every axis after it is taken whole).
  let inner = rank - 1;
  while (inner > 0 && size[inner] === shape[inner] && begin[inner] === 0) inner--;
  const run = size.slice(inner).reduce((product, extent) => product * extent, 1);
  const outer = size.slice(0, inner);
  const count = outer.reduce((product, extent) => product * extent, 1);
  const index = new Array<number>(inner).fill(0);
  const innerStride = inner === rank - 1 ? 1 : strides[inner]!;
  for (let written = 0; written < count; written++) {
    let offset = begin[inner]! * innerStride;
    for (let axis = 0; axis < inner; axis++) offset += (begin[axis]! + index[axis]!) * strides[axis]!;
    target.set(source.subarray(offset, offset + run), written * run);
    for (let axis = inner - 1; axis >= 0; axis--) {
      index[axis]! += 1;
      if (index[axis]! < outer[axis]!) break;
      index[axis] = 0;
    }
  }
};

/**
 * Wraps tfjs-backend-wasm's `Slice`, which reads its *whole* input back through `readSync` (a copy
 * of the full buffer) before copying the slice out: taking one 16 MiB block of rows from Qwen's
 * 148 MiB lm_head costs ~150 ms that way. Numeric tensors are read in place from the wasm heap
 * instead; strings keep tfjs's kernel.
 */
export const inPlaceSlice =
  (original: tf.KernelFunc): tf.KernelFunc =>
  (args) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs as { x: tf.TensorInfo };
    if (x.dtype === "string" || x.shape.length === 0) return original(args);
    const { begin, size } = attrs as unknown as {
      begin: number | Array<number>;
      size: number | Array<number>;
    };
    const [start, extent] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    const heap = backend as unknown as WasmHeapBackend;
    const out = heap.makeOutput(extent, x.dtype);
    if (tf.util.sizeFromShape(extent) === 0) return out;
    // Views after makeOutput: allocating may grow (and so replace) the heap's buffer.
    copyBlock(heap.typedArrayFromHeap(x), heap.typedArrayFromHeap(out), x.shape, start, extent);
    return out;
  };
