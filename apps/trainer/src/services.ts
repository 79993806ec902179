import { Context, Effect, Layer } from "effect";
import type { BatchVerifier } from "./BatchVerifier.js";
import type { TensorObjective, TrainablePolicy } from "./TrainablePolicy.js";
import type { TrainerConfig } from "./TrainerConfig.js";
import type { TrainerHooks } from "./TrainerHooks.js";
import type { TrainingData } from "./TrainingData.js";

/**
 * Any failure raised while building a component or training (the typed errors of this package,
 * core's `InvalidInputError`, or an error of a component).
 *
 * @since 0.1.0
 * @category services
 */
export type TrainerFailure = Error;

const asError = (cause: unknown): Error => (cause instanceof Error ? cause : new Error(String(cause)));

const attempt = <A>(run: () => Promise<A> | A): Effect.Effect<A, TrainerFailure> =>
  Effect.tryPromise({ try: async () => run(), catch: asError });

/**
 * The resolved configuration of the run.
 *
 * @since 0.1.0
 * @category services
 */
export class TrainerSettings extends Context.Service<TrainerSettings, TrainerConfig>()(
  "@apo-rl/trainer/TrainerSettings",
) {
  static layer(config: TrainerConfig): Layer.Layer<TrainerSettings> {
    return Layer.succeed(TrainerSettings, config);
  }
}

/**
 * The tfjs backend in use, initialised before any tensor is made.
 *
 * @since 0.1.0
 * @category services
 */
export class TrainerBackend extends Context.Service<TrainerBackend, { readonly name: string }>()(
  "@apo-rl/trainer/TrainerBackend",
) {
  static make(hooks: Pick<TrainerHooks, "initBackend">) {
    return Effect.flatMap(TrainerSettings, (config) =>
      attempt(() => hooks.initBackend(config)).pipe(Effect.map((name) => ({ name }))),
    );
  }
  static layer(
    hooks: Pick<TrainerHooks, "initBackend">,
  ): Layer.Layer<TrainerBackend, TrainerFailure, TrainerSettings> {
    return Layer.effect(TrainerBackend, TrainerBackend.make(hooks));
  }
}

/**
 * The policy being trained.
 *
 * @since 0.1.0
 * @category services
 */
export class TrainingPolicy extends Context.Service<TrainingPolicy, TrainablePolicy>()(
  "@apo-rl/trainer/TrainingPolicy",
) {
  static make(hooks: Pick<TrainerHooks, "createPolicy">) {
    return Effect.flatMap(TrainerSettings, (config) => attempt(() => hooks.createPolicy(config)));
  }
  static layer(
    hooks: Pick<TrainerHooks, "createPolicy">,
  ): Layer.Layer<TrainingPolicy, TrainerFailure, TrainerSettings | TrainerBackend> {
    return Layer.effect(TrainingPolicy, TrainingPolicy.make(hooks));
  }
}

/**
 * The objective, from the registry by name.
 *
 * @since 0.1.0
 * @category services
 */
export class TrainingObjective extends Context.Service<TrainingObjective, TensorObjective>()(
  "@apo-rl/trainer/TrainingObjective",
) {
  static make(hooks: Pick<TrainerHooks, "createObjective">) {
    return Effect.flatMap(TrainerSettings, (config) => attempt(() => hooks.createObjective(config)));
  }
  static layer(
    hooks: Pick<TrainerHooks, "createObjective">,
  ): Layer.Layer<TrainingObjective, TrainerFailure, TrainerSettings> {
    return Layer.effect(TrainingObjective, TrainingObjective.make(hooks));
  }
}

/**
 * The reward verifier (a worker pool, released when the layer's scope closes).
 *
 * @since 0.1.0
 * @category services
 */
export class TrainingVerifier extends Context.Service<TrainingVerifier, BatchVerifier>()(
  "@apo-rl/trainer/TrainingVerifier",
) {
  static make(hooks: Pick<TrainerHooks, "createVerifier">) {
    return Effect.flatMap(TrainerSettings, (config) =>
      Effect.acquireRelease(
        attempt(() => hooks.createVerifier(config)),
        (verifier) => Effect.promise(() => verifier.close()).pipe(Effect.ignore),
      ),
    );
  }
  static layer(
    hooks: Pick<TrainerHooks, "createVerifier">,
  ): Layer.Layer<TrainingVerifier, TrainerFailure, TrainerSettings> {
    return Layer.effect(TrainingVerifier, TrainingVerifier.make(hooks));
  }
}

/**
 * The training prompts and the held-out set.
 *
 * @since 0.1.0
 * @category services
 */
export class TrainingDataSource extends Context.Service<TrainingDataSource, TrainingData>()(
  "@apo-rl/trainer/TrainingDataSource",
) {
  static make(hooks: Pick<TrainerHooks, "createData">) {
    return Effect.flatMap(TrainerSettings, (config) => attempt(() => hooks.createData(config)));
  }
  static layer(
    hooks: Pick<TrainerHooks, "createData">,
  ): Layer.Layer<TrainingDataSource, TrainerFailure, TrainerSettings> {
    return Layer.effect(TrainingDataSource, TrainingDataSource.make(hooks));
  }
}

/**
 * Every service of a run, built from `config` with `hooks`: settings, then the backend, then the
 * policy, objective, verifier and data.
 *
 * @since 0.1.0
 * @category services
 */
export const trainerLayer = (
  config: TrainerConfig,
  hooks: TrainerHooks,
): Layer.Layer<
  | TrainerSettings
  | TrainerBackend
  | TrainingPolicy
  | TrainingObjective
  | TrainingVerifier
  | TrainingDataSource,
  TrainerFailure
> =>
  Layer.mergeAll(
    TrainingPolicy.layer(hooks),
    TrainingObjective.layer(hooks),
    TrainingVerifier.layer(hooks),
    TrainingDataSource.layer(hooks),
  ).pipe(Layer.provideMerge(TrainerBackend.layer(hooks)), Layer.provideMerge(TrainerSettings.layer(config)));
