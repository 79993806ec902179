import * as tf from "@tensorflow/tfjs-core";
import { Effect, Schema } from "effect";
import { stopGradient } from "../masking.js";
import type { PolicyLoss } from "../PolicyLoss.js";

const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0));

/**
 * Options of the `cispo` loss: the importance-weight bounds `1 − clipLow` (default `clipLow 1`: no
 * lower bound) and `1 + clipHigh` (default `clipHigh 0.28`).
 *
 * @since 0.2.0
 * @category losses
 */
export const CispoOptions = Schema.Struct({
  clipLow: NonNegative.check(Schema.isLessThanOrEqualTo(1)).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed(1)),
  ),
  clipHigh: NonNegative.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.28))),
});

/**
 * CISPO (MiniMax-M1, 2025, arXiv:2506.13585): clip the importance-sampling weight, not the update.
 * `ρ = exp(logp − logp_old)`, `ℓ = −sg(clip(ρ, 1 − clipLow, 1 + clipHigh)) · A · logp`, so every
 * token keeps a gradient `−clip(ρ)·A·∇logp` (PPO drops the clipped tokens' gradient). `clipped` marks
 * the tokens whose weight was clipped.
 *
 * @since 0.2.0
 * @category losses
 */
export const cispo =
  (options: typeof CispoOptions.Type): PolicyLoss =>
  (input) =>
    tf.tidy(() => {
      const advantages = input.advantages.rank === 1 ? tf.expandDims(input.advantages, 1) : input.advantages;
      const ratio = tf.exp(tf.clipByValue(tf.sub(input.logp, input.logpOld), -20, 20));
      const low = 1 - options.clipLow;
      const high = 1 + options.clipHigh;
      const weight = stopGradient(tf.clipByValue(ratio, low, high));
      const perToken = tf.neg(tf.mul(tf.mul(weight, advantages), input.logp));
      const clipped = tf.cast(tf.logicalOr(tf.less(ratio, low), tf.greater(ratio, high)), "float32");
      return { perToken, clipped };
    });
