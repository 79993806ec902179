import * as tf from "@tensorflow/tfjs-core";

/** A contiguous range of rows: `[start, start + size)`. */
export interface Chunk {
  readonly start: number;
  readonly size: number;
}

/** Split `total` rows into consecutive chunks of at most `size` rows. */
export const chunkRanges = (total: number, size: number): ReadonlyArray<Chunk> => {
  const chunks: Array<Chunk> = [];
  for (let start = 0; start < total; start += size) {
    chunks.push({ start, size: Math.min(size, total - start) });
  }
  return chunks;
};

/**
 * Elements a chunk of logits may hold by default: 2^22 float32 values = 16 MiB, i.e. 27 rows of
 * Qwen's 151,936-token vocabulary.
 */
export const DEFAULT_CHUNK_ELEMENTS = 1 << 22;

/** Rows per chunk so that one `[rows, width]` chunk holds at most {@link DEFAULT_CHUNK_ELEMENTS}. */
export const defaultChunkRows = (width: number): number =>
  Math.max(1, Math.floor(DEFAULT_CHUNK_ELEMENTS / Math.max(1, width)));

/** Rows `[start, start + size)` of a vector or matrix. */
export const sliceRows = <T extends tf.Tensor>(tensor: T, start: number, size: number): T =>
  (tensor.rank === 1 ? tf.slice(tensor, [start], [size]) : tf.slice(tensor, [start, 0], [size, -1])) as T;
