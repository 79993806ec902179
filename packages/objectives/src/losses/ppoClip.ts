import { clippedSurrogate } from "@apo-rl/tensor/portable";
import { Effect, Schema } from "effect";
import type { PolicyLoss } from "../PolicyLoss.js";

const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0));

/**
 * Options of the `ppoClip` policy loss: `clipLow` (default 0.2, below 1), `clipHigh` (default 0.2)
 * and an optional dual-clip constant `dualClip > 1`.
 *
 * @since 0.2.0
 * @category losses
 */
export const PpoClipOptions = Schema.Struct({
  clipLow: NonNegative.check(Schema.isLessThan(1)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.2))),
  clipHigh: NonNegative.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.2))),
  dualClip: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(1))),
});

/**
 * The PPO clipped surrogate (Schulman et al., 2017), with the dual clip of Ye et al. (2020) when
 * `dualClip = c` is set: `ρ = exp(logp − logp_old)`,
 * `ℓ = −min(ρ·A, clip(ρ, 1 − clipLow, 1 + clipHigh)·A)`, and for `A < 0`, `ℓ = min(ℓ, −c·A)`.
 *
 * @since 0.2.0
 * @category losses
 */
export const ppoClip =
  (options: typeof PpoClipOptions.Type): PolicyLoss =>
  (input) => {
    const surrogate = clippedSurrogate(input.logp, input.logpOld, input.advantages, {
      epsLow: options.clipLow,
      epsHigh: options.clipHigh,
      ...(options.dualClip === undefined ? {} : { dualClip: options.dualClip }),
    });
    return { perToken: surrogate.loss, clipped: surrogate.clipped };
  };
