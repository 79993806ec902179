import { decodeSync, type ObjectiveV2 } from "@apo-rl/core";
import type { Tensor } from "@tensorflow/tfjs-core";
import { Effect, Schema } from "effect";
import { configFromOptions } from "../internal/configFromOptions.js";
import { policyGradientObjective } from "../internal/policyGradientObjective.js";
import { KlScheduleOptions } from "../klSchedule.js";
import { policyGradientFields } from "../policyGradientOptions.js";

const { beta: _constantBeta, klSchedule: _optionalSchedule, ...fields } = policyGradientFields;

/**
 * Options of {@link grpoD}: the GRPO-family fields without `beta`, and a `klSchedule` that defaults to
 * `{ kind: "linear", betaMin: 0, betaMax: 1e-3, warmupFraction: 1 }` (β rises linearly from 0 to
 * the reference 1e-3 over the run).
 *
 * @since 0.1.0
 * @category objectives
 */
export const GrpoDOptions = Schema.Struct({
  ...fields,
  klSchedule: KlScheduleOptions.pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
});

/**
 * @since 0.1.0
 * @category objectives
 */
export type GrpoDOptions = typeof GrpoDOptions.Type;

/**
 * GRPO-D (OThink-MR1): GRPO whose KL coefficient follows an increasing schedule `β(step)` — small
 * early to explore, larger later to exploit.
 *
 * @since 0.1.0
 * @category objectives
 */
export const grpoD = (options: typeof GrpoDOptions.Encoded = {}): ObjectiveV2<Tensor> => {
  const decoded = decodeSync(GrpoDOptions, "grpoD options")(options);
  return policyGradientObjective(configFromOptions("grpoD", { ...decoded, beta: 0 }));
};
