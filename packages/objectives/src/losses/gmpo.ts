import * as tf from "@tensorflow/tfjs-core";
import { Effect, Schema } from "effect";
import type { PolicyLoss } from "../PolicyLoss.js";

const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0));

/**
 * Options of the `gmpo` loss: the log-ratio clip range `[−clipLow, clipHigh]` (default 0.4 each,
 * i.e. ratios in `(e^−0.4, e^0.4)`).
 *
 * @since 0.2.0
 * @category losses
 */
export const GmpoOptions = Schema.Struct({
  clipLow: NonNegative.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.4))),
  clipHigh: NonNegative.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.4))),
});

/**
 * GMPO, Geometric-Mean Policy Optimization (Zhao et al., 2025, arXiv:2507.20673): the geometric
 * mean of the token ratios replaces their arithmetic mean, clipped token by token in log space.
 * With `s = sign(A)` and `l_t = logp_t − logp_old_t`:
 * `m_t = s·min(s·l_t, s·clip(l_t, −clipLow, clipHigh))`, `R = exp(mean_t m_t)` over the sequence's
 * response tokens, `ℓ = −A·R`. The sequence loss is written on each of its tokens, so
 * `aggregation: "seq-mean-token-mean"` gives the paper's mean over sequences. Needs `[R]` advantages.
 *
 * @since 0.2.0
 * @category losses
 */
export const gmpo =
  (options: typeof GmpoOptions.Type): PolicyLoss =>
  (input) =>
    tf.tidy(() => {
      const advantage = input.advantages.rank === 1 ? input.advantages : tf.max(input.advantages, 1);
      const sign = tf.expandDims(tf.sign(advantage), 1);
      const logRatio = tf.sub(input.logp, input.logpOld);
      const bounded = tf.clipByValue(logRatio, -options.clipLow, options.clipHigh);
      const chosen = tf.mul(sign, tf.minimum(tf.mul(sign, logRatio), tf.mul(sign, bounded)));
      const tokens = tf.maximum(tf.sum(input.mask, 1), 1);
      const sequenceRatio = tf.exp(tf.div(tf.sum(tf.mul(chosen, input.mask), 1), tokens));
      const perSequence = tf.neg(tf.mul(advantage, sequenceRatio));
      const perToken = tf.mul(tf.expandDims(perSequence, 1), input.mask);
      const clipped = tf.cast(tf.greater(tf.abs(tf.sub(chosen, logRatio)), 0), "float32");
      return { perToken, clipped };
    });
