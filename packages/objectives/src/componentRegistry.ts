import { decodeSync } from "@apo-rl/core";
import type { Schema } from "effect";
import { ObjectiveRegistrationError, UnknownComponentError } from "./errors.js";

/**
 * A registered component: its factory and the schema that decodes (and defaults) its options.
 *
 * @since 0.2.0
 * @category registry
 */
export interface ComponentEntry<Component> {
  readonly name: string;
  readonly optionsSchema: Schema.Codec<unknown, unknown, never, never>;
  readonly factory: (options: never) => Component;
}

/**
 * A table of components (advantage estimators, policy losses) by name.
 *
 * @since 0.2.0
 * @category registry
 */
export interface ComponentRegistry<Component> {
  /** `advantage estimator` or `policy loss`: named in errors. */
  readonly kind: string;
  /** Register `factory` under `name`; throws `ObjectiveRegistrationError` if the name is taken. */
  register<S extends Schema.Codec<unknown, unknown, never, never>>(
    name: string,
    factory: (options: S["Type"]) => Component,
    optionsSchema: S,
    settings?: { readonly replace?: boolean },
  ): void;
  /**
   * Decode `options` and build the component. Throws `UnknownComponentError` (listing what is
   * registered) or `InvalidInputError` naming the option.
   */
  create(name: string, options?: unknown): Component;
  names(): ReadonlyArray<string>;
}

const namePattern = /^[A-Za-z][A-Za-z0-9._-]*$/;

/**
 * A new component registry; `initialise` registers the built-ins on first use (so that modules can
 * import each other in any order).
 *
 * @since 0.2.0
 * @category registry
 */
export const makeComponentRegistry = <Component>(
  kind: string,
  initialise: (registry: ComponentRegistry<Component>) => void = () => {},
): ComponentRegistry<Component> => {
  const entries = new Map<string, ComponentEntry<Component>>();
  let ready = false;
  const registry: ComponentRegistry<Component> = {
    kind,
    register(name, factory, optionsSchema, settings = {}) {
      ensure();
      if (!namePattern.test(name))
        throw new ObjectiveRegistrationError({
          name,
          reason: `a ${kind} name is a letter followed by letters, digits, . _ -`,
        });
      if (entries.has(name) && settings.replace !== true)
        throw new ObjectiveRegistrationError({
          name,
          reason: `the ${kind} name is taken; pass { replace: true } to override`,
        });
      entries.set(name, { name, factory: factory as (options: never) => Component, optionsSchema });
    },
    create(name, options = {}) {
      ensure();
      const entry = entries.get(name);
      if (entry === undefined) {
        const known = [...entries.keys()];
        throw new UnknownComponentError({
          kind,
          name,
          known,
          reason: `registered ${kind.endsWith("s") ? `${kind}es` : `${kind}s`} are ${known.join(", ")}`,
        });
      }
      const decoded = decodeSync(entry.optionsSchema, `${kind} ${name} options`)(options);
      return (entry.factory as (options: unknown) => Component)(decoded);
    },
    names() {
      ensure();
      return [...entries.keys()];
    },
  };
  function ensure() {
    if (ready) return;
    ready = true;
    initialise(registry);
  }
  return registry;
};
