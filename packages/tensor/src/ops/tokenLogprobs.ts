import * as tf from "@tensorflow/tfjs-core";
import { assembleRows } from "../internal/ops/assembleRows.js";
import { chunkRanges, defaultChunkRows, sliceRows } from "../internal/ops/chunks.js";
import {
  invalidInput,
  requireFloat,
  requirePositiveInteger,
  requireRank,
  requireTargets,
} from "../internal/ops/invalidInput.js";
import { logprobDirection, rowStatistics } from "../internal/ops/rowStatistics.js";

/**
 * Options of {@link tokenLogprobs}.
 *
 * @since 0.1.0
 * @category ops
 */
export interface TokenLogprobsOptions {
  /** Rows of logits processed at once (default: as many as fit 2^22 values, 27 rows at V = 151,936). */
  readonly chunkSize?: number;
}

const OP = "tokenLogprobs";

/**
 * Log-probability of each row's target token: `logits[n, targets[n]] - logsumexp(logits[n, :])`.
 *
 * Works in row chunks and never builds the `[N, V]` log-softmax: the forward keeps only the
 * per-row log-sum-exp `[N]`; the gradient `dy · (onehot(target) - softmax)` is built one chunk at a
 * time. Stable for logits of any magnitude (`±1e4`) and for `-inf` masks (a masked target gives
 * `-inf`, every other row stays finite). Differentiable in `logits`.
 *
 * @param logits - `[N, V]` float32.
 * @param targets - `[N]` int32 token ids in `[0, V)`.
 * @returns `[N]` float32 log-probabilities.
 * @throws InvalidInputError (from `@apo-rl/core`) naming the argument or the offending `targets[row]`.
 *
 * @example
 * ```ts
 * const logp = tokenLogprobs(logits, targets); // [N]
 * ```
 * @since 0.1.0
 * @category ops
 */
export const tokenLogprobs = (
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  options: TokenLogprobsOptions = {},
): tf.Tensor1D => {
  requireRank(OP, "logits", logits, 2);
  requireFloat(OP, "logits", logits);
  const [rows, vocabulary] = logits.shape;
  if (rows === 0 || vocabulary === 0)
    throw invalidInput(OP, "logits", "expected at least one row and one column");
  requireTargets(OP, targets, rows, vocabulary);
  requirePositiveInteger(OP, "chunkSize", options.chunkSize);
  const chunks = chunkRanges(rows, options.chunkSize ?? defaultChunkRows(vocabulary));

  const compute = tf.customGrad((input, save) => {
    const x = input as tf.Tensor2D;
    const pieces = chunks.map(({ start, size }) =>
      tf.tidy(() => {
        const part = sliceRows(x, start, size);
        const { logprob, shift, logTotal } = rowStatistics(part, {
          entropy: false,
          targets: sliceRows(targets, start, size),
        });
        return { logprob: logprob!, shift, logTotal };
      }),
    );
    const gather = (key: "logprob" | "shift" | "logTotal") => tf.concat(pieces.map((piece) => piece[key]));
    const value = gather("logprob");
    const shift = gather("shift");
    const logTotal = gather("logTotal");
    tf.dispose(pieces.map((piece) => [piece.logprob, piece.shift, piece.logTotal]));
    (save as tf.GradSaveFunc)([x, targets, shift, logTotal]);
    tf.dispose([shift, logTotal]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
        const [savedLogits, savedTargets, savedShift, savedLogTotal] = saved as [
          tf.Tensor2D,
          tf.Tensor1D,
          tf.Tensor1D,
          tf.Tensor1D,
        ];
        const shift = tf.reshape(savedShift, [-1, 1]) as tf.Tensor2D;
        const logTotal = tf.reshape(savedLogTotal, [-1, 1]) as tf.Tensor2D;
        const upstream = tf.reshape(dy, [-1, 1]) as tf.Tensor2D;
        // d log p(target) / d logits = onehot(target) - softmax, scaled by the upstream gradient.
        const gradient = assembleRows(rows, vocabulary, chunks, ({ start, size }) =>
          tf.tidy(() => {
            const direction = logprobDirection(
              sliceRows(savedLogits, start, size),
              sliceRows(shift, start, size),
              sliceRows(logTotal, start, size),
              sliceRows(savedTargets, start, size),
            );
            return tf.mul(direction, sliceRows(upstream, start, size)) as tf.Tensor2D;
          }),
        );
        tf.dispose([shift, logTotal, upstream]);
        return gradient;
      },
    };
  });
  return compute(logits) as tf.Tensor1D;
};
