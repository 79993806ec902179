import type * as tf from "@tensorflow/tfjs-core";
import { accumulateSegments, segmentShape } from "./segmentSum.js";

/** The part of tfjs-backend-cpu's `MathBackendCPU` this kernel uses. */
interface CpuBackend {
  readSync(dataId: tf.DataId): ArrayLike<number>;
  makeTensorInfo(shape: Array<number>, dtype: tf.DataType, values: Float32Array | Int32Array): tf.TensorInfo;
}

/**
 * `UnsortedSegmentSum` for the cpu backend, replacing tfjs-backend-cpu's, which loops over the
 * segments and masks the whole input for each (O(numSegments · size of x) with four temporary
 * tensors per segment: an embedding gradient over Qwen's 151,936-token vocabulary would take
 * hours). This one is a single pass over `x`; int32 input gives int32 sums.
 */
const unsortedSegmentSum: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const cpu = backend as unknown as CpuBackend;
  const { shape, rowSize } = segmentShape(x.shape, segmentIds.shape.length, numSegments);
  const sums =
    x.dtype === "int32" ? new Int32Array(numSegments * rowSize) : new Float32Array(numSegments * rowSize);
  accumulateSegments(cpu.readSync(x.dataId), cpu.readSync(segmentIds.dataId), rowSize, numSegments, sums);
  return cpu.makeTensorInfo(shape, x.dtype === "int32" ? "int32" : "float32", sums);
};

/** Kernel config registered by {@link installMissingKernels} in place of tfjs's. */
export const unsortedSegmentSumCpu: tf.KernelConfig = {
  kernelName: "UnsortedSegmentSum",
  backendName: "cpu",
  kernelFunc: unsortedSegmentSum,
};
