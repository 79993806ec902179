import * as tf from "@tensorflow/tfjs-core";
import { assembleRows } from "../internal/ops/assembleRows.js";
import { chunkRanges, defaultChunkRows, sliceRows } from "../internal/ops/chunks.js";
import {
  invalidInput,
  requireFloat,
  requirePositiveInteger,
  requireRank,
} from "../internal/ops/invalidInput.js";
import { entropyDirection, rowStatistics } from "../internal/ops/rowStatistics.js";

/**
 * Options of {@link entropyFromLogits}.
 *
 * @since 0.1.0
 * @category ops
 */
export interface EntropyFromLogitsOptions {
  /** Rows of logits processed at once (default: as many as fit 2^22 values, 27 rows at V = 151,936). */
  readonly chunkSize?: number;
}

const OP = "entropyFromLogits";

/**
 * Entropy of the softmax of each row: `H_n = -Σ_v p_nv log p_nv = log s - Σ_v e_v z_v / s` with
 * `z = x - max_v x`, `e = exp(z)`, `s = Σ e` — computed in row chunks, without a `[N, V]` softmax.
 * `-inf` logits (masked tokens) contribute 0. Differentiable in `logits`
 * (`dH/dx_v = -p_v (log p_v + H)`), also chunked.
 *
 * @param logits - `[N, V]` float32.
 * @returns `[N]` float32 entropies (nats).
 *
 * @example
 * ```ts
 * const entropy = entropyFromLogits(logits); // [N]
 * ```
 * @since 0.1.0
 * @category ops
 */
export const entropyFromLogits = (
  logits: tf.Tensor2D,
  options: EntropyFromLogitsOptions = {},
): tf.Tensor1D => {
  requireRank(OP, "logits", logits, 2);
  requireFloat(OP, "logits", logits);
  const [rows, vocabulary] = logits.shape;
  if (rows === 0 || vocabulary === 0)
    throw invalidInput(OP, "logits", "expected at least one row and one column");
  requirePositiveInteger(OP, "chunkSize", options.chunkSize);
  const chunks = chunkRanges(rows, options.chunkSize ?? defaultChunkRows(vocabulary));

  const compute = tf.customGrad((input, save) => {
    const x = input as tf.Tensor2D;
    const pieces = chunks.map(({ start, size }) =>
      tf.tidy(() => rowStatistics(sliceRows(x, start, size), { entropy: true })),
    );
    const gather = (key: "entropy" | "shift" | "logTotal") =>
      tf.concat(pieces.map((piece) => piece[key] as tf.Tensor1D));
    const value = gather("entropy");
    const shift = gather("shift");
    const logTotal = gather("logTotal");
    tf.dispose(pieces.map((piece) => [piece.entropy!, piece.shift, piece.logTotal]));
    (save as tf.GradSaveFunc)([x, shift, logTotal, value]);
    tf.dispose([shift, logTotal]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
        const [savedLogits, savedShift, savedLogTotal, savedEntropy] = saved as [
          tf.Tensor2D,
          tf.Tensor1D,
          tf.Tensor1D,
          tf.Tensor1D,
        ];
        const shift = tf.reshape(savedShift, [-1, 1]) as tf.Tensor2D;
        const logTotal = tf.reshape(savedLogTotal, [-1, 1]) as tf.Tensor2D;
        const entropy = tf.reshape(savedEntropy, [-1, 1]) as tf.Tensor2D;
        const upstream = tf.reshape(tf.neg(dy), [-1, 1]) as tf.Tensor2D;
        // dH/dx = -p (log p + H), scaled by the upstream gradient.
        const gradient = assembleRows(rows, vocabulary, chunks, ({ start, size }) =>
          tf.tidy(() => {
            const direction = entropyDirection(
              sliceRows(savedLogits, start, size),
              sliceRows(shift, start, size),
              sliceRows(logTotal, start, size),
              sliceRows(entropy, start, size),
            );
            return tf.mul(direction, sliceRows(upstream, start, size)) as tf.Tensor2D;
          }),
        );
        tf.dispose([shift, logTotal, entropy, upstream]);
        return gradient;
      },
    };
  });
  return compute(logits) as tf.Tensor1D;
};
