import * as tf from "@tensorflow/tfjs-core";

/** The part of tfjs-backend-wasm's `BackendWasm` this kernel uses. */
interface WasmHeapBackend {
  makeOutput(shape: Array<number>, dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

interface Conv2DBackpropFilterAttributes {
  readonly strides: number | [number, number];
  readonly pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  readonly dataFormat: "NHWC" | "NCHW";
  readonly dimRoundingMode?: "floor" | "round" | "ceil";
  readonly filterShape: [number, number, number, number];
}

/**
 * `Conv2DBackpropFilter` (the filter gradient of `conv2d`) for the wasm backend, which has none in
 * tfjs-backend-wasm 4.22:
 * `dW[fh, fw, ic, oc] = Σ_{b, oh, ow} x[b, oh·sh + fh − top, ow·sw + fw − left, ic] · dy[b, oh, ow, oc]`.
 * Written as plain loops on the wasm heap (JavaScript speed), for NHWC with any padding. It does
 * not reuse the wasm `Conv3DBackpropFilterV2` kernel because that one drops the last output column
 * with `"same"` padding and strides > 1.
 */
const conv2dBackpropFilter: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as Conv2DBackpropFilterAttributes;
  if (dataFormat !== "NHWC")
    throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${dataFormat}`);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    "channelsLast",
  );
  const heap = backend as unknown as WasmHeapBackend;
  // Allocate first: growing the wasm memory detaches views taken earlier.
  const output = heap.makeOutput([...filterShape], x.dtype);
  const input = heap.typedArrayFromHeap(x);
  const gradient = heap.typedArrayFromHeap(dy);
  const filter = heap.typedArrayFromHeap(output);
  filter.fill(0);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  for (let b = 0; b < batchSize; b++)
    for (let oh = 0; oh < outHeight; oh++)
      for (let fh = 0; fh < filterHeight; fh++) {
        const h = oh * strideHeight + fh - padInfo.top;
        if (h < 0 || h >= inHeight) continue;
        for (let ow = 0; ow < outWidth; ow++) {
          const dyOffset = ((b * outHeight + oh) * outWidth + ow) * outChannels;
          for (let fw = 0; fw < filterWidth; fw++) {
            const w = ow * strideWidth + fw - padInfo.left;
            if (w < 0 || w >= inWidth) continue;
            const xOffset = ((b * inHeight + h) * inWidth + w) * inChannels;
            for (let ic = 0; ic < inChannels; ic++) {
              const value = input[xOffset + ic] as number;
              const filterOffset = ((fh * filterWidth + fw) * inChannels + ic) * outChannels;
              for (let oc = 0; oc < outChannels; oc++)
                filter[filterOffset + oc] =
                  (filter[filterOffset + oc] as number) + value * (gradient[dyOffset + oc] as number);
            }
          }
        }
      }
  return output;
};

/** Kernel config registered by {@link installMissingKernels}. */
export const conv2dBackpropFilterWasm: tf.KernelConfig = {
  kernelName: "Conv2DBackpropFilter",
  backendName: "wasm",
  kernelFunc: conv2dBackpropFilter,
};
