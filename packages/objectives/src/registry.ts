import {
  assertSpecificationVersion,
  decodeEffect,
  decodeSync,
  type InvalidInputError,
  type ObjectiveV2,
} from "@apo-rl/core";
import type { Tensor } from "@tensorflow/tfjs-core";
import { Effect, type Schema } from "effect";
import { ObjectiveRegistrationError, UnknownObjectiveError } from "./errors.js";

/**
 * Builds an objective from its options, already decoded (and defaulted) by its schema.
 *
 * @since 0.1.0
 * @category registry
 */
export type ObjectiveFactory<Options> = (options: Options) => ObjectiveV2<Tensor>;

/**
 * A registered objective: its factory and the schema that decodes (and defaults) its options.
 *
 * @since 0.1.0
 * @category registry
 */
export interface ObjectiveEntry {
  readonly name: string;
  readonly optionsSchema: Schema.Codec<unknown, unknown, never, never>;
  readonly factory: ObjectiveFactory<never>;
}

/**
 * A table of objectives by name, so that trainers and benchmarks build one from a config file's
 * `{ name, options }`.
 *
 * @since 0.1.0
 * @category registry
 */
export interface ObjectiveRegistry {
  /** Register `factory` under `name`; throws `ObjectiveRegistrationError` if the name is taken. */
  register<S extends Schema.Codec<unknown, unknown, never, never>>(
    name: string,
    factory: ObjectiveFactory<S["Type"]>,
    optionsSchema: S,
    settings?: { readonly replace?: boolean },
  ): void;
  /** Decode `options` with the objective's schema and build it. Throws `UnknownObjectiveError` or `InvalidInputError`. */
  create(name: string, options?: unknown): ObjectiveV2<Tensor>;
  /** The same as an Effect. */
  createEffect(
    name: string,
    options?: unknown,
  ): Effect.Effect<ObjectiveV2<Tensor>, UnknownObjectiveError | InvalidInputError>;
  /** The registered names, in registration order. */
  names(): ReadonlyArray<string>;
  /** The entry registered under `name`, if any. */
  get(name: string): ObjectiveEntry | undefined;
}

const namePattern = /^[A-Za-z][A-Za-z0-9._-]*$/;

/**
 * A new objective registry, empty until `initialise` registers entries on first use. Most code
 * uses the shared `objectiveRegistry` instead.
 *
 * @since 0.1.0
 * @category registry
 */
export const makeObjectiveRegistry = (
  initialise: (registry: ObjectiveRegistry) => void = () => {},
): ObjectiveRegistry => {
  const entries = new Map<string, ObjectiveEntry>();
  let ready = false;
  const ensure = () => {
    if (ready) return;
    ready = true;
    initialise(registry);
  };
  const unknown = (name: string): UnknownObjectiveError => {
    ensure();
    const known = [...entries.keys()];
    return new UnknownObjectiveError({
      name,
      known,
      reason: `registered objectives are ${known.join(", ")}`,
    });
  };
  const lookup = (name: string): Effect.Effect<ObjectiveEntry, UnknownObjectiveError> =>
    Effect.suspend(() => {
      ensure();
      const entry = entries.get(name);
      return entry === undefined ? Effect.fail(unknown(name)) : Effect.succeed(entry);
    });
  const build = (entry: ObjectiveEntry, decoded: unknown): ObjectiveV2<Tensor> => {
    const objective = (entry.factory as ObjectiveFactory<unknown>)(decoded);
    assertSpecificationVersion(`objective ${entry.name}`, objective);
    return objective;
  };
  const registry: ObjectiveRegistry = {
    register(name, factory, optionsSchema, settings = {}) {
      ensure();
      if (!namePattern.test(name))
        throw new ObjectiveRegistrationError({
          name,
          reason: "a name is a letter followed by letters, digits, . _ -",
        });
      if (entries.has(name) && settings.replace !== true)
        throw new ObjectiveRegistrationError({
          name,
          reason: "the name is taken; pass { replace: true } to override",
        });
      entries.set(name, { name, factory: factory as ObjectiveFactory<never>, optionsSchema });
    },
    create(name, options = {}) {
      ensure();
      const entry = entries.get(name);
      if (entry === undefined) throw unknown(name);
      return build(entry, decodeSync(entry.optionsSchema, `${name} options`)(options));
    },
    createEffect(name, options = {}) {
      return lookup(name).pipe(
        Effect.flatMap((entry) =>
          decodeEffect(
            entry.optionsSchema,
            `${name} options`,
          )(options).pipe(Effect.map((decoded) => build(entry, decoded))),
        ),
      );
    },
    names: () => {
      ensure();
      return [...entries.keys()];
    },
    get: (name) => {
      ensure();
      return entries.get(name);
    },
  };
  return registry;
};
