import * as tf from "@tensorflow/tfjs-core";
import { Effect, Schema } from "effect";
import type { PolicyLoss } from "../PolicyLoss.js";

const Positive = Schema.Finite.check(Schema.isGreaterThan(0));

/**
 * Options of the `sapo` loss: the gate temperatures `temperaturePositive` (default 1, for `A > 0`)
 * and `temperatureNegative` (default 1.05, for `A ≤ 0`).
 *
 * @since 0.2.0
 * @category losses
 */
export const SapoOptions = Schema.Struct({
  temperaturePositive: Positive.pipe(Schema.withDecodingDefaultKey(Effect.succeed(1))),
  temperatureNegative: Positive.pipe(Schema.withDecodingDefaultKey(Effect.succeed(1.05))),
});

/**
 * SAPO, Soft Adaptive Policy Optimization (Gao et al., 2025, arXiv:2511.20347): a smooth gate
 * instead of a hard clip. `ρ = exp(logp − logp_old)`, `τ = temperaturePositive` when `A > 0`, else
 * `temperatureNegative`, `ℓ = −(4/τ)·σ(τ(ρ − 1))·A`; its gradient `−4σ(1 − σ)·ρ·A·∇logp` equals
 * the policy gradient on-policy (ρ = 1) and fades smoothly off-policy. `clipped` marks the tokens
 * whose gate weight `4σ(1 − σ)` is below one half.
 *
 * @since 0.2.0
 * @category losses
 */
export const sapo =
  (options: typeof SapoOptions.Type): PolicyLoss =>
  (input) =>
    tf.tidy(() => {
      const advantages = input.advantages.rank === 1 ? tf.expandDims(input.advantages, 1) : input.advantages;
      const ratio = tf.exp(tf.clipByValue(tf.sub(input.logp, input.logpOld), -20, 20));
      const temperature = tf.where(
        tf.greater(tf.broadcastTo(advantages, ratio.shape), 0),
        tf.fill(ratio.shape, options.temperaturePositive),
        tf.fill(ratio.shape, options.temperatureNegative),
      );
      const gate = tf.sigmoid(tf.mul(temperature, tf.sub(ratio, 1)));
      const perToken = tf.neg(tf.mul(tf.div(tf.mul(gate, 4), temperature), advantages));
      const weight = tf.mul(tf.mul(gate, tf.sub(1, gate)), 4);
      const clipped = tf.cast(tf.less(weight, 0.5), "float32");
      return { perToken, clipped };
    });
