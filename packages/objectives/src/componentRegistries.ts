import type { Schema } from "effect";
import type { AdvantageEstimator } from "./AdvantageEstimator.js";
import { type ComponentRegistry, makeComponentRegistry } from "./componentRegistry.js";
import { GrpoEstimatorOptions, grpoEstimator } from "./estimators/grpo.js";
import { GrpoPassKOptions, grpoPassK } from "./estimators/grpoPassK.js";
import {
  ReinforcePlusPlusOptions,
  reinforcePlusPlus,
  reinforcePlusPlusBaseline,
} from "./estimators/reinforcePlusPlus.js";
import { RlooOptions, rloo } from "./estimators/rloo.js";
import { sharedInstance } from "./internal/shared.js";
import { CispoOptions, cispo } from "./losses/cispo.js";
import { DualClipPpoOptions, dualClipPpo } from "./losses/dualClipPpo.js";
import { GmpoOptions, gmpo } from "./losses/gmpo.js";
import { PpoClipOptions, ppoClip } from "./losses/ppoClip.js";
import { SapoOptions, sapo } from "./losses/sapo.js";
import type { PolicyLoss } from "./PolicyLoss.js";

/**
 * The shared advantage estimators, by name: `grpo` and every estimator registered with
 * {@link registerAdvantageEstimator} (e.g. by a plugin). Built-ins register on first use.
 *
 * @since 0.2.0
 * @category registry
 */
export const advantageEstimatorRegistry: ComponentRegistry<AdvantageEstimator> = sharedInstance(
  "advantageEstimatorRegistry/v2",
  () =>
    makeComponentRegistry<AdvantageEstimator>("advantage estimator", (registry) => {
      registry.register("grpo", grpoEstimator, GrpoEstimatorOptions);
      registry.register("rloo", rloo, RlooOptions);
      registry.register("reinforcePlusPlus", reinforcePlusPlus, ReinforcePlusPlusOptions);
      registry.register("reinforcePlusPlusBaseline", reinforcePlusPlusBaseline, ReinforcePlusPlusOptions);
      registry.register("grpoPassK", grpoPassK, GrpoPassKOptions);
    }),
);

/**
 * The shared policy losses, by name: `ppoClip` and every loss registered with
 * {@link registerPolicyLoss}. Built-ins register on first use.
 *
 * @since 0.2.0
 * @category registry
 */
export const policyLossRegistry: ComponentRegistry<PolicyLoss> = sharedInstance("policyLossRegistry/v2", () =>
  makeComponentRegistry<PolicyLoss>("policy loss", (registry) => {
    registry.register("ppoClip", ppoClip, PpoClipOptions);
    registry.register("dualClipPpo", dualClipPpo, DualClipPpoOptions);
    registry.register("cispo", cispo, CispoOptions);
    registry.register("gmpo", gmpo, GmpoOptions);
    registry.register("sapo", sapo, SapoOptions);
  }),
);

/**
 * Register an advantage estimator under `name` with the schema of its options.
 *
 * @since 0.2.0
 * @category registry
 */
export const registerAdvantageEstimator = <S extends Schema.Codec<unknown, unknown, never, never>>(
  name: string,
  factory: (options: S["Type"]) => AdvantageEstimator,
  optionsSchema: S,
  settings: { readonly replace?: boolean } = {},
): void => advantageEstimatorRegistry.register(name, factory, optionsSchema, settings);

/**
 * Register a policy loss under `name` with the schema of its options.
 *
 * @since 0.2.0
 * @category registry
 */
export const registerPolicyLoss = <S extends Schema.Codec<unknown, unknown, never, never>>(
  name: string,
  factory: (options: S["Type"]) => PolicyLoss,
  optionsSchema: S,
  settings: { readonly replace?: boolean } = {},
): void => policyLossRegistry.register(name, factory, optionsSchema, settings);
