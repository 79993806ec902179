import * as tf from "@tensorflow/tfjs-core";
import { copyBlock, type WasmHeapBackend } from "./sliceWasm.js";

/**
 * Wraps tfjs-backend-wasm's `Unpack` (`tf.unstack`), which slices each output with tfjs's own
 * `Slice`: every one of the `n` outputs read the *whole* input back through `readSync` first, so
 * unstacking `n` blocks copied the input `n` times (the per-slice attention products of a small
 * model spent a quarter of a demo step there). Numeric tensors are read in place from the wasm heap
 * instead; strings keep tfjs's kernel.
 */
export const inPlaceUnpack =
  (original: tf.KernelFunc): tf.KernelFunc =>
  (args) => {
    const { inputs, backend, attrs } = args;
    const { value } = inputs as { value: tf.TensorInfo };
    if (value.dtype === "string" || value.shape.length === 0) return original(args);
    const rank = value.shape.length;
    const requested = (attrs as unknown as { axis: number }).axis;
    const axis = requested < 0 ? requested + rank : requested;
    const count = value.shape[axis]!;
    const outputShape = value.shape.filter((_, index) => index !== axis);
    const size = value.shape.map((extent, index) => (index === axis ? 1 : extent));
    const heap = backend as unknown as WasmHeapBackend;
    const outputs = Array.from({ length: count }, () => heap.makeOutput(outputShape, value.dtype));
    if (tf.util.sizeFromShape(outputShape) === 0) return outputs;
    for (let index = 0; index < count; index++) {
      const begin = value.shape.map((_, dimension) => (dimension === axis ? index : 0));
      // Views after every makeOutput above: allocating may grow (and so replace) the heap's buffer.
      copyBlock(
        heap.typedArrayFromHeap(value),
        heap.typedArrayFromHeap(outputs[index]!),
        value.shape,
        begin,
        size,
      );
    }
    return outputs;
  };
