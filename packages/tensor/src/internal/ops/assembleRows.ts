import * as tf from "@tensorflow/tfjs-core";
import type { Chunk } from "./chunks.js";

/** Backends whose tensors live in host (or wasm) memory: reading a chunk back is a plain copy. */
const HOST_BACKENDS: ReadonlySet<string> = new Set(["cpu", "wasm", "tensorflow"]);

/** The part of tfjs-backend-wasm's `BackendWasm` read here. */
interface WasmHeapBackend {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * The values of a float32 tensor on a host backend. On wasm, a view of the heap (no copy; valid
 * until the next allocation, so use it at once); elsewhere `dataSync()`.
 */
const hostValues = (tensor: tf.Tensor): Float32Array => {
  const backend = tf.backend() as unknown as Partial<WasmHeapBackend>;
  if (tf.getBackend() === "wasm" && typeof backend.typedArrayFromHeap === "function")
    return backend.typedArrayFromHeap(tensor) as Float32Array;
  return tensor.dataSync() as Float32Array;
};

/**
 * Rows to add on top of the assembled chunks: `result[indices[n]] += rows[n]` (repeated indices
 * add up). For sparse terms (one row per token) that would otherwise be spread over every chunk.
 */
export interface RowAdditions {
  /** `[M]` int32 row indices in `[0, rows)`. */
  readonly indices: tf.Tensor1D;
  /** `[M, width]` values. */
  readonly rows: tf.Tensor2D;
}

/** `additions` restricted to the rows `[start, start + size)` of a chunk, as a `[size, width]` tensor. */
export const chunkAdditions = (additions: RowAdditions, { start, size }: Chunk): tf.Tensor2D =>
  tf.tidy(() => {
    const local = tf.sub(additions.indices, tf.scalar(start, "int32"));
    const inside = tf.logicalAnd(tf.greaterEqual(local, 0), tf.less(local, size));
    // Rows outside the chunk add a 0 to row 0 (`where`, not `clipByValue`: wasm does not clip int32).
    const rowIndices = tf.reshape(tf.where(inside, local, tf.zerosLike(local)), [-1, 1]);
    const kept = tf.mul(additions.rows, tf.reshape(tf.cast(inside, "float32"), [-1, 1]));
    return tf.scatterND(rowIndices, kept, [size, additions.rows.shape[1]]) as tf.Tensor2D;
  });

/**
 * Build a `[rows, width]` tensor from row chunks produced one at a time, keeping at most one chunk
 * alive next to the result, plus the sparse `additions` if given.
 *
 * On host-memory backends (cpu, wasm, tfjs-node) each chunk is copied into one preallocated
 * `Float32Array` that becomes the result (on wasm straight from the heap), so the only memory beyond
 * the result is one chunk; the additions are added there too. On device backends (webgl, webgpu) a
 * host round-trip would stall the device, so the chunks (each with its share of the additions) are
 * kept and concatenated (peak: twice the result).
 */
export const assembleRows = (
  rows: number,
  width: number,
  chunks: ReadonlyArray<Chunk>,
  produce: (chunk: Chunk) => tf.Tensor2D,
  additions?: RowAdditions,
): tf.Tensor2D => {
  if (!HOST_BACKENDS.has(tf.getBackend())) {
    const parts = chunks.map((chunk) => {
      const part = produce(chunk);
      if (additions === undefined) return part;
      const sum = tf.tidy(() => tf.add(part, chunkAdditions(additions, chunk)) as tf.Tensor2D);
      part.dispose();
      return sum;
    });
    const result = tf.concat(parts, 0);
    tf.dispose(parts);
    return result;
  }
  const values = new Float32Array(rows * width);
  for (const chunk of chunks) {
    const part = produce(chunk);
    values.set(hostValues(part), chunk.start * width);
    part.dispose();
  }
  if (additions !== undefined) {
    const indices = additions.indices.dataSync();
    const added = additions.rows.dataSync();
    for (let n = 0; n < indices.length; n++) {
      const offset = indices[n]! * width;
      for (let column = 0; column < width; column++) values[offset + column]! += added[n * width + column]!;
    }
  }
  return tf.tensor2d(values, [rows, width], "float32");
};
