import type { Schema } from "effect";
import type { AdvantageEstimator } from "./AdvantageEstimator.js";
import { type ComponentRegistry, makeComponentRegistry } from "./componentRegistry.js";
import { GrpoEstimatorOptions, grpoEstimator } from "./estimators/grpo.js";
import { sharedInstance } from "./internal/shared.js";
import { PpoClipOptions, ppoClip } from "./losses/ppoClip.js";
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
