import * as tf from "@tensorflow/tfjs-core";
import {
  chunkedRowGradient,
  chunkedRowStatistics,
  column,
  logitsLayout,
} from "../internal/ops/chunkedRows.js";
import { sliceRows } from "../internal/ops/chunks.js";
import { requireTargets } from "../internal/ops/invalidInput.js";
import { logprobDirection } from "../internal/ops/rowStatistics.js";

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
  const layout = logitsLayout(OP, logits, options.chunkSize);
  requireTargets(OP, targets, layout.rows, layout.vocabulary);
  const compute = tf.customGrad((input, save) => {
    const x = input as tf.Tensor2D;
    const { logprob, shift, logTotal } = chunkedRowStatistics(x, layout.chunks, { entropy: false, targets });
    (save as tf.GradSaveFunc)([x, targets, shift, logTotal]);
    tf.dispose([shift, logTotal]);
    return {
      value: logprob!,
      gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
        const [savedLogits, savedTargets, ...perRow] = saved as [
          tf.Tensor2D,
          tf.Tensor1D,
          tf.Tensor1D,
          tf.Tensor1D,
        ];
        const [shiftColumn, logTotalColumn] = perRow.map(column);
        // d log p(target) / d logits = onehot(target) - softmax, scaled by the upstream gradient.
        const gradient = chunkedRowGradient(layout, dy, ({ start, size }) =>
          logprobDirection(
            sliceRows(savedLogits, start, size),
            sliceRows(shiftColumn!, start, size),
            sliceRows(logTotalColumn!, start, size),
            sliceRows(savedTargets, start, size),
          ),
        );
        tf.dispose([shiftColumn!, logTotalColumn!]);
        return gradient;
      },
    };
  });
  return compute(logits) as tf.Tensor1D;
};
