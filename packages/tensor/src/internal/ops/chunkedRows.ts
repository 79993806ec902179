import * as tf from "@tensorflow/tfjs-core";
import { assembleRows } from "./assembleRows.js";
import { type Chunk, chunkRanges, defaultChunkRows, sliceRows } from "./chunks.js";
import { invalidInput, requireFloat, requirePositiveInteger, requireRank } from "./invalidInput.js";
import { type RowStatisticsRequest, rowStatistics } from "./rowStatistics.js";

/** Shape and row chunks of a checked `[N, V]` logits matrix. */
export interface LogitsLayout {
  readonly rows: number;
  readonly vocabulary: number;
  readonly chunks: ReadonlyArray<Chunk>;
}

/** Check `[N, V]` float logits (N, V ≥ 1) and a chunk size; split the rows into chunks. */
export const logitsLayout = (
  op: string,
  logits: tf.Tensor2D,
  chunkSize: number | undefined,
): LogitsLayout => {
  requireRank(op, "logits", logits, 2);
  requireFloat(op, "logits", logits);
  const [rows, vocabulary] = logits.shape;
  if (rows === 0 || vocabulary === 0)
    throw invalidInput(op, "logits", "expected at least one row and one column");
  requirePositiveInteger(op, "chunkSize", chunkSize);
  return { rows, vocabulary, chunks: chunkRanges(rows, chunkSize ?? defaultChunkRows(vocabulary)) };
};

/** Per-row statistics of `logits`, computed chunk by chunk and concatenated to `[N]` each. */
export interface ChunkedRowStatistics {
  readonly shift: tf.Tensor1D;
  readonly logTotal: tf.Tensor1D;
  readonly logprob: tf.Tensor1D | undefined;
  readonly entropy: tf.Tensor1D | undefined;
}

/** {@link rowStatistics} over row chunks: at most one chunk's `[size, V]` temporaries exist at once. */
export const chunkedRowStatistics = (
  logits: tf.Tensor2D,
  chunks: ReadonlyArray<Chunk>,
  request: RowStatisticsRequest,
): ChunkedRowStatistics => {
  const pieces = chunks.map(({ start, size }) =>
    tf.tidy(() =>
      rowStatistics(sliceRows(logits, start, size), {
        entropy: request.entropy,
        ...(request.targets === undefined ? {} : { targets: sliceRows(request.targets, start, size) }),
      }),
    ),
  );
  const gather = (key: "shift" | "logTotal" | "logprob" | "entropy"): tf.Tensor1D | undefined =>
    pieces[0]?.[key] === undefined ? undefined : tf.concat(pieces.map((piece) => piece[key] as tf.Tensor1D));
  const result = {
    shift: gather("shift")!,
    logTotal: gather("logTotal")!,
    logprob: gather("logprob"),
    entropy: gather("entropy"),
  };
  tf.dispose(pieces);
  return result;
};

/** `[N, 1]` view of a per-row tensor, for broadcasting along the vocabulary. */
export const column = (values: tf.Tensor): tf.Tensor2D => tf.reshape(values, [-1, 1]) as tf.Tensor2D;

/**
 * The `[N, V]` gradient `upstream_n · direction_nv`, built one row chunk at a time (`direction`
 * gives a chunk's `[size, V]` rows and runs inside a tidy).
 */
export const chunkedRowGradient = (
  layout: LogitsLayout,
  upstream: tf.Tensor,
  direction: (chunk: Chunk) => tf.Tensor2D,
): tf.Tensor2D => {
  const scale = column(upstream);
  const gradient = assembleRows(layout.rows, layout.vocabulary, layout.chunks, (chunk) =>
    tf.tidy(() => tf.mul(direction(chunk), sliceRows(scale, chunk.start, chunk.size)) as tf.Tensor2D),
  );
  scale.dispose();
  return gradient;
};
