import * as tf from "@tensorflow/tfjs-core";
import type { Chunk } from "./chunks.js";

/** Backends whose tensors live in host (or wasm) memory: reading a chunk back is a plain copy. */
const HOST_BACKENDS: ReadonlySet<string> = new Set(["cpu", "wasm", "tensorflow"]);

/**
 * Build a `[rows, width]` tensor from row chunks produced one at a time, keeping at most one chunk
 * alive next to the result.
 *
 * On host-memory backends (cpu, wasm, tfjs-node) each chunk is copied into one preallocated
 * `Float32Array` that becomes the result, so the only memory beyond the result is one chunk. On
 * device backends (webgl, webgpu) a host round-trip would stall the device, so the chunks are kept
 * and concatenated (peak: twice the result).
 */
export const assembleRows = (
  rows: number,
  width: number,
  chunks: ReadonlyArray<Chunk>,
  produce: (chunk: Chunk) => tf.Tensor2D,
): tf.Tensor2D => {
  if (!HOST_BACKENDS.has(tf.getBackend())) {
    const parts = chunks.map(produce);
    const result = tf.concat(parts, 0);
    tf.dispose(parts);
    return result;
  }
  const values = new Float32Array(rows * width);
  for (const chunk of chunks) {
    const part = produce(chunk);
    values.set(part.dataSync(), chunk.start * width);
    part.dispose();
  }
  return tf.tensor2d(values, [rows, width], "float32");
};
