import type * as tf from "@tensorflow/tfjs-core";
import { accumulateSegments, segmentShape } from "./segmentSum.js";

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
  const { shape, rowSize } = segmentShape(x.shape, segmentIds.shape.length, numSegments);
  // Allocate first: growing the wasm memory detaches views taken earlier.
  const output = heap.makeOutput(shape, x.dtype);
  const sums = heap.typedArrayFromHeap(output);
  sums.fill(0);
  accumulateSegments(
    heap.typedArrayFromHeap(x),
    heap.typedArrayFromHeap(segmentIds),
    rowSize,
    numSegments,
    sums,
  );
  return output;
};

/** Kernel config registered by {@link installMissingKernels}. */
export const unsortedSegmentSumWasm: tf.KernelConfig = {
  kernelName: "UnsortedSegmentSum",
  backendName: "wasm",
  kernelFunc: unsortedSegmentSum,
};
