import * as tf from "@tensorflow/tfjs-core";

/** The part of tfjs-backend-webgpu's `WebGPUBackend` this kernel uses. */
interface WebGpuBackend {
  makeTensorInfo(shape: Array<number>, dtype: tf.DataType, values?: Int32Array): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
}

const kernel = (name: string): tf.KernelFunc => {
  const found = tf.getKernel(name, "webgpu");
  if (found === undefined) throw new Error(`UnsortedSegmentSum needs kernel ${name} on webgpu`);
  return found.kernelFunc;
};

/**
 * `UnsortedSegmentSum` on webgpu that drops ids outside `[0, numSegments)`, as TensorFlow and
 * tfjs's cpu and wasm kernels do. tfjs-backend-webgpu 4.22 adds such rows into some other segment
 * (WebGPU clamps the out-of-bounds write). Ids outside the range are redirected to one extra segment
 * `numSegments`, which is sliced off. int32 input is summed in float32 (exact below 2^24) and cast
 * back: the webgpu kernel returns an int32 sum's float32 bit pattern.
 */
export const droppingOutOfRangeIds =
  (original: tf.KernelFunc): tf.KernelFunc =>
  (args) => {
    const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
    const numSegments = (args.attrs as { numSegments: number }).numSegments;
    const backend = args.backend as unknown as WebGpuBackend;
    const run = (name: string, inputs: Record<string, tf.TensorInfo>, attrs: tf.NamedAttrMap = {}) =>
      kernel(name)({ inputs, backend: args.backend, attrs }) as tf.TensorInfo;
    const scalar = (value: number) => backend.makeTensorInfo([], "int32", Int32Array.of(value));
    const zero = scalar(0);
    const bound = scalar(numSegments);
    const atLeastZero = run("GreaterEqual", { a: segmentIds, b: zero });
    const belowBound = run("Less", { a: segmentIds, b: bound });
    const inside = run("LogicalAnd", { a: atLeastZero, b: belowBound });
    const spare = run("Fill", {}, { shape: [...segmentIds.shape], value: numSegments, dtype: "int32" });
    const ids = run("Select", { condition: inside, t: segmentIds, e: spare });
    const values = x.dtype === "int32" ? run("Cast", { x }, { dtype: "float32" }) : x;
    const paddedInfo = original({
      ...args,
      inputs: { x: values, segmentIds: ids },
      attrs: { numSegments: numSegments + 1 },
    }) as tf.TensorInfo;
    if (values !== x) backend.disposeData(values.dataId);
    const sliced = run(
      "Slice",
      { x: paddedInfo },
      { begin: paddedInfo.shape.map(() => 0), size: [numSegments, ...paddedInfo.shape.slice(1)] },
    );
    for (const info of [zero, bound, atLeastZero, belowBound, inside, spare, ids, paddedInfo])
      backend.disposeData(info.dataId);
    if (x.dtype !== "int32") return sliced;
    const result = run("Cast", { x: sliced }, { dtype: "int32" });
    backend.disposeData(sliced.dataId);
    return result;
  };
