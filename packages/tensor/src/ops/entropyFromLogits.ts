import * as tf from "@tensorflow/tfjs-core";
import {
  chunkedRowGradient,
  chunkedRowStatistics,
  column,
  logitsLayout,
} from "../internal/ops/chunkedRows.js";
import { sliceRows } from "../internal/ops/chunks.js";
import { entropyDirection } from "../internal/ops/rowStatistics.js";

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
  const layout = logitsLayout(OP, logits, options.chunkSize);
  const compute = tf.customGrad((input, save) => {
    const x = input as tf.Tensor2D;
    const { entropy, shift, logTotal } = chunkedRowStatistics(x, layout.chunks, { entropy: true });
    (save as tf.GradSaveFunc)([x, shift, logTotal, entropy!]);
    tf.dispose([shift, logTotal]);
    return {
      value: entropy!,
      gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
        const [savedLogits, ...perRow] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const [shiftColumn, logTotalColumn, entropyColumn] = perRow.map(column);
        const upstream = tf.neg(dy);
        // dH/dx = -p (log p + H), scaled by the upstream gradient.
        const gradient = chunkedRowGradient(layout, upstream, ({ start, size }) =>
          entropyDirection(
            sliceRows(savedLogits, start, size),
            sliceRows(shiftColumn!, start, size),
            sliceRows(logTotalColumn!, start, size),
            sliceRows(entropyColumn!, start, size),
          ),
        );
        tf.dispose([shiftColumn!, logTotalColumn!, entropyColumn!, upstream]);
        return gradient;
      },
    };
  });
  return compute(logits) as tf.Tensor1D;
};
