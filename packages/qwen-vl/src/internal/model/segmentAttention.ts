import * as tf from "@tensorflow/tfjs-core";
import { batchedMatMul, maskedScore, scaledMaskedSoftmax } from "./ops.js";

/**
 * How a sequence split into contiguous segments is laid out for batched attention: every segment is
 * padded to the longest one, `[segments, longest]`, with a key-padding mask. Tokens only attend
 * within their own segment (a block-diagonal attention), and no `[N, N]` mask is ever built.
 */
export interface SegmentLayout {
  readonly segments: number;
  readonly longest: number;
  /** Token gathered into each padded slot (`segments·longest`; pads take token 0). */
  readonly gather: tf.Tensor1D;
  /** Padded slot of each token (`N`). */
  readonly scatter: tf.Tensor1D;
  /** `[segments, 1, 1, longest]` additive key mask, absent when no segment is padded. */
  readonly keyMask: tf.Tensor4D | undefined;
}

/** Build the layout for boundaries `cu` (`[0, …, N]`). The caller disposes it. */
export const segmentLayout = (cu: ReadonlyArray<number>): SegmentLayout => {
  const lengths = cu.slice(1).map((end, index) => end - cu[index]!);
  const segments = lengths.length;
  const longest = Math.max(...lengths);
  const total = cu[cu.length - 1]!;
  const gather = new Int32Array(segments * longest);
  const scatter = new Int32Array(total);
  const mask = new Float32Array(segments * longest);
  lengths.forEach((length, segment) => {
    for (let slot = 0; slot < longest; slot++) {
      const position = segment * longest + slot;
      if (slot < length) {
        gather[position] = cu[segment]! + slot;
        scatter[cu[segment]! + slot] = position;
      } else {
        mask[position] = maskedScore;
      }
    }
  });
  const padded = lengths.some((length) => length !== longest);
  return {
    segments,
    longest,
    gather: tf.tensor1d(gather, "int32"),
    scatter: tf.tensor1d(scatter, "int32"),
    keyMask: padded ? tf.tensor4d(mask, [segments, 1, 1, longest]) : undefined,
  };
};

export const disposeLayout = (layout: SegmentLayout): void => {
  layout.gather.dispose();
  layout.scatter.dispose();
  layout.keyMask?.dispose();
};

/** `[N, heads, dim]` → `[segments, heads, longest, dim]`. */
const toSegments = (x: tf.Tensor, layout: SegmentLayout): tf.Tensor => {
  const [, heads, dim] = x.shape as [number, number, number];
  return tf.transpose(
    tf.reshape(tf.gather(x, layout.gather), [layout.segments, layout.longest, heads, dim]),
    [0, 2, 1, 3],
  );
};

/** Largest score block computed at once (elements); bigger segments are split by query rows. */
export const maxScoreElements = 1 << 24;

/** softmax(q·kᵀ/√d + mask)·v on `[segments, heads, rows, dim]` blocks, query rows in chunks. */
const attendInChunks = (
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  mask: tf.Tensor | undefined,
  chunk: number,
) => {
  const [segments, heads, rows, dim] = q.shape as [number, number, number, number];
  const parts: tf.Tensor[] = [];
  for (let start = 0; start < rows; start += chunk) {
    const size = Math.min(chunk, rows - start);
    parts.push(
      tf.tidy(() => {
        const block = rows === size ? q : tf.slice(q, [0, 0, start, 0], [segments, heads, size, dim]);
        return batchedMatMul(
          scaledMaskedSoftmax(batchedMatMul(block, k, true), 1 / Math.sqrt(dim), mask),
          v,
          false,
        );
      }),
    );
  }
  return parts.length === 1 ? parts[0]! : tf.concat(parts, 2);
};

/**
 * Bidirectional attention inside each segment: q, k, v are `[N, heads, dim]`; returns
 * `[N, heads·dim]` in the original token order. Softmax of `q·kᵀ/√dim` in float32. Score blocks
 * larger than {@link maxScoreElements} are computed a chunk of query rows at a time.
 */
export const segmentAttention = (
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  layout: SegmentLayout,
  maxElements = maxScoreElements,
): tf.Tensor =>
  tf.tidy(() => {
    const [n, heads, dim] = q.shape as [number, number, number];
    const perRow = layout.segments * heads * layout.longest;
    const chunk = Math.max(1, Math.min(layout.longest, Math.floor(maxElements / perRow)));
    const context = attendInChunks(
      toSegments(q, layout),
      toSegments(k, layout),
      toSegments(v, layout),
      layout.keyMask,
      chunk,
    );
    const flat = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [
      layout.segments * layout.longest,
      heads * dim,
    ]);
    return tf.reshape(tf.gather(flat, layout.scatter), [n, heads * dim]);
  });
