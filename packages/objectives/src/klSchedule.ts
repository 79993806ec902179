import { decodeSync, type ObjectiveContext } from "@apo-rl/core";
import { Effect, Schema } from "effect";

const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0));

/**
 * Options of a KL-coefficient schedule. `constant` holds `betaMax`; `linear` and `cosine` rise
 * (or fall) from `betaMin` to `betaMax` over the first `warmupFraction` of the planned steps, then
 * stay at `betaMax`. Defaults: `linear`, `betaMin 0`, `betaMax 1e-3`, `warmupFraction 1`.
 *
 * @since 0.1.0
 * @category KL
 */
export const KlScheduleOptions = Schema.Struct({
  kind: Schema.Literals(["constant", "linear", "cosine"]).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed("linear" as const)),
  ),
  betaMin: NonNegative.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0))),
  betaMax: NonNegative.pipe(Schema.withDecodingDefaultKey(Effect.succeed(1e-3))),
  warmupFraction: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed(1)),
  ),
});

/**
 * @since 0.1.0
 * @category KL
 */
export type KlScheduleOptions = typeof KlScheduleOptions.Type;

/**
 * A KL coefficient as a function of where training stands.
 *
 * @since 0.1.0
 * @category KL
 */
export type KlSchedule = (context: ObjectiveContext) => number;

/**
 * How far through the warm-up window `context` is, in `[0, 1]`.
 */
const warmupProgress = (context: ObjectiveContext, warmupFraction: number): number => {
  const window = warmupFraction * context.totalSteps;
  if (window <= 0) return 1;
  return Math.min(1, Math.max(0, context.step / window));
};

/**
 * Build a KL-coefficient schedule `β(step)` (GRPO-D's dynamic KL). With progress
 * `p = clamp(step / (warmupFraction · totalSteps), 0, 1)`:
 * `constant`: `β = betaMax`; `linear`: `β = betaMin + (betaMax − betaMin)·p`;
 * `cosine`: `β = betaMin + (betaMax − betaMin)·(1 − cos(π·p))/2`.
 * Invalid options throw an `InvalidInputError` naming the option.
 *
 * @since 0.1.0
 * @category KL
 */
export const klSchedule = (options: typeof KlScheduleOptions.Encoded = {}): KlSchedule => {
  const { kind, betaMin, betaMax, warmupFraction } = decodeSync(
    KlScheduleOptions,
    "klSchedule options",
  )(options);
  if (kind === "constant") return () => betaMax;
  return (context) => {
    const progress = warmupProgress(context, warmupFraction);
    const shape = kind === "linear" ? progress : (1 - Math.cos(Math.PI * progress)) / 2;
    return betaMin + (betaMax - betaMin) * shape;
  };
};
