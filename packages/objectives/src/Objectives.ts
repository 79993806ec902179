import type { InvalidInputError, ObjectiveV2 } from "@apo-rl/core";
import type { Tensor } from "@tensorflow/tfjs-core";
import { Context, Effect, Layer, type Schema } from "effect";
import { ObjectiveRegistrationError, type UnknownObjectiveError } from "./errors.js";
import { objectiveRegistry } from "./registries.js";
import type { ObjectiveFactory, ObjectiveRegistry } from "./registry.js";

/**
 * What the {@link Objectives} service offers: build an objective from its name and options,
 * register one, list the names.
 *
 * @since 0.1.0
 * @category service
 */
export interface ObjectivesShape {
  readonly create: (
    name: string,
    options?: unknown,
  ) => Effect.Effect<ObjectiveV2<Tensor>, UnknownObjectiveError | InvalidInputError>;
  readonly register: <S extends Schema.Codec<unknown, unknown, never, never>>(
    name: string,
    factory: ObjectiveFactory<S["Type"]>,
    optionsSchema: S,
    settings?: { readonly replace?: boolean },
  ) => Effect.Effect<void, ObjectiveRegistrationError>;
  readonly names: Effect.Effect<ReadonlyArray<string>>;
}

const shapeOf = (registry: ObjectiveRegistry): ObjectivesShape => ({
  create: (name, options) => registry.createEffect(name, options),
  register: (name, factory, optionsSchema, settings = {}) =>
    Effect.try({
      try: () => registry.register(name, factory, optionsSchema, settings),
      catch: (error) =>
        error instanceof ObjectiveRegistrationError
          ? error
          : new ObjectiveRegistrationError({ name, reason: String(error) }),
    }),
  names: Effect.sync(() => registry.names()),
});

/**
 * The objective registry as an Effect service. `Objectives.layer` serves the shared registry (the
 * built-ins and every contributed objective); `Objectives.layerFrom(registry)` serves another one,
 * e.g. a `makeObjectiveRegistry()` in tests.
 *
 * @since 0.1.0
 * @category service
 */
export class Objectives extends Context.Service<Objectives, ObjectivesShape>()(
  "@apo-rl/objectives/Objectives",
) {
  /** Build the service over the shared registry. */
  static readonly make: Effect.Effect<ObjectivesShape> = Effect.sync(() => shapeOf(objectiveRegistry));
  /** The layer providing {@link Objectives} over the shared registry. */
  static readonly layer: Layer.Layer<Objectives> = Layer.effect(Objectives, Objectives.make);
  /** A layer providing {@link Objectives} over `registry`. */
  static readonly layerFrom = (registry: ObjectiveRegistry): Layer.Layer<Objectives> =>
    Layer.succeed(Objectives, shapeOf(registry));
}
