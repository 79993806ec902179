import { Effect, Schema } from "effect";
import type { PolicyLoss } from "../PolicyLoss.js";
import { ppoClip } from "./ppoClip.js";

const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0));

/**
 * Options of the `dualClipPpo` loss: `clipLow` / `clipHigh` (default 0.2) and the dual-clip
 * constant `dualClip` (default 3, must exceed 1).
 *
 * @since 0.2.0
 * @category losses
 */
export const DualClipPpoOptions = Schema.Struct({
  clipLow: NonNegative.check(Schema.isLessThan(1)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.2))),
  clipHigh: NonNegative.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0.2))),
  dualClip: Schema.Finite.check(Schema.isGreaterThan(1)).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed(3)),
  ),
});

/**
 * Dual-clip PPO (Ye et al., 2020, "Mastering Complex Control in MOBA Games with Deep RL"): the PPO
 * clipped surrogate, and for `A < 0` the loss is also capped at `−c·A`, so a token with a huge
 * ratio and a negative advantage cannot dominate: `ℓ = min(max(−ρA, −clip(ρ)A), −cA)` for `A < 0`.
 *
 * @since 0.2.0
 * @category losses
 */
export const dualClipPpo = (options: typeof DualClipPpoOptions.Type): PolicyLoss => ppoClip(options);
