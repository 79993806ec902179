import type { InvalidInputError, ObjectiveV2 } from "@apo-rl/core";
import type { Tensor } from "@tensorflow/tfjs-core";
import type { Effect, Schema } from "effect";
import {
  advantageEstimatorRegistry,
  policyLossRegistry,
  registerAdvantageEstimator,
  registerPolicyLoss,
} from "./componentRegistries.js";
import { GspoOptions, gspo } from "./contrib/gspo.js";
import type { UnknownObjectiveError } from "./errors.js";
import { sharedInstance } from "./internal/shared.js";
import { ApoOptions, apo } from "./objectives/apo.js";
import { DapoOptions, dapo } from "./objectives/dapo.js";
import { DrGrpoOptions, drGrpo } from "./objectives/drGrpo.js";
import { GrpoOptions, grpo } from "./objectives/grpo.js";
import { GrpoDOptions, grpoD } from "./objectives/grpoD.js";
import { makeObjectiveRegistry, type ObjectiveFactory } from "./registry.js";

/**
 * The shared objective registry: `grpo`, `drGrpo`, `dapo`, `grpoD`, `apo` and the worked example
 * `gspo` (registered on first use, so no module registers anything by being imported), plus every
 * objective registered with {@link registerObjective} (e.g. by a plugin).
 *
 * @since 0.1.0
 * @category registry
 */
export const objectiveRegistry = sharedInstance("objectiveRegistry/v2", () =>
  makeObjectiveRegistry((registry) => {
    registry.register("grpo", grpo, GrpoOptions);
    registry.register("drGrpo", drGrpo, DrGrpoOptions);
    registry.register("dapo", dapo, DapoOptions);
    registry.register("grpoD", grpoD, GrpoDOptions);
    registry.register("apo", apo, ApoOptions);
    registry.register("gspo", gspo, GspoOptions);
  }),
);

/**
 * Register an objective in the shared registry under `name`, with the schema that decodes its
 * options. Throws `ObjectiveRegistrationError` when the name is taken, unless `replace: true`.
 *
 * @since 0.1.0
 * @category registry
 */
export const registerObjective = <S extends Schema.Codec<unknown, unknown, never, never>>(
  name: string,
  factory: ObjectiveFactory<S["Type"]>,
  optionsSchema: S,
  settings: { readonly replace?: boolean } = {},
): void => objectiveRegistry.register(name, factory, optionsSchema, settings);

/**
 * Build a registered objective from its name and options (e.g. from a config file). Throws
 * `UnknownObjectiveError` for an unknown name and `InvalidInputError` naming the option for bad options.
 *
 * @since 0.1.0
 * @category registry
 */
export const createObjective = (name: string, options: unknown = {}): ObjectiveV2<Tensor> =>
  objectiveRegistry.create(name, options);

/**
 * {@link createObjective} as an Effect, failing with `UnknownObjectiveError` or `InvalidInputError`.
 *
 * @since 0.1.0
 * @category registry
 */
export const createObjectiveEffect = (
  name: string,
  options: unknown = {},
): Effect.Effect<ObjectiveV2<Tensor>, UnknownObjectiveError | InvalidInputError> =>
  objectiveRegistry.createEffect(name, options);

/** The component registries live beside the objective registry's factories (no import cycle). */
export { advantageEstimatorRegistry, policyLossRegistry, registerAdvantageEstimator, registerPolicyLoss };
