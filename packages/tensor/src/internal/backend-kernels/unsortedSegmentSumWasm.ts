import type * as tf from "@tensorflow/tfjs-core";

/** The part of tfjs-backend-wasm's `BackendWasm` this kernel uses. */
interface WasmHeapBackend {
  makeOutput(shape: Array<number>, dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * `UnsortedSegmentSum` for the wasm backend (tfjs-backend-wasm 4.22 has none; it is the gradient of
 * `gather`, so every embedding lookup needs it). `output[s, ...] = Σ_{i : ids[i] = s} x[i, ...]`,
 * where `segmentIds` covers the leading dimensions of `x`; ids outside `[0, numSegments)` are
 * dropped, as in TensorFlow. Runs in JavaScript directly on the wasm heap: one pass over `x`.
 */
const unsortedSegmentSum: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const heap = backend as unknown as WasmHeapBackend;
  const rowShape = x.shape.slice(segmentIds.shape.length);
  const rowSize = rowShape.reduce((product, size) => product * size, 1);
  // Allocate first: growing the wasm memory detaches views taken earlier.
  const output = heap.makeOutput([numSegments, ...rowShape], x.dtype);
  const values = heap.typedArrayFromHeap(x);
  const ids = heap.typedArrayFromHeap(segmentIds);
  const sums = heap.typedArrayFromHeap(output);
  sums.fill(0);
  for (let row = 0; row < ids.length; row++) {
    const segment = ids[row] as number;
    if (segment < 0 || segment >= numSegments) continue;
    const from = row * rowSize;
    const to = segment * rowSize;
    for (let k = 0; k < rowSize; k++) sums[to + k] = (sums[to + k] as number) + (values[from + k] as number);
  }
  return output;
};

/** Kernel config registered by {@link installMissingKernels}. */
export const unsortedSegmentSumWasm: tf.KernelConfig = {
  kernelName: "UnsortedSegmentSum",
  backendName: "wasm",
  kernelFunc: unsortedSegmentSum,
};
