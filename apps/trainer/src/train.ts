import { Effect } from "effect";
import { defaultTrainerHooks } from "./defaultHooks.js";
import { loadPlugins } from "./plugins.js";
import type { RolloutSource } from "./rollout/RolloutSource.js";
import {
  createRolloutSourceFromConfig,
  spawnConfiguredRolloutServers,
} from "./rollout/rolloutSourceFromConfig.js";
import type { SpawnedRolloutServers } from "./rollout/spawnRolloutServers.js";
import {
  TrainerBackend,
  type TrainerFailure,
  TrainerSettings,
  TrainingDataSource,
  TrainingObjective,
  TrainingPolicy,
  TrainingVerifier,
  trainerLayer,
} from "./services.js";
import type { TrainablePolicy } from "./TrainablePolicy.js";
import type { TrainerConfig } from "./TrainerConfig.js";
import type { TrainerHooks } from "./TrainerHooks.js";
import {
  runTrainingLoop,
  type TrainingLoopOptions,
  type TrainingSummary,
  usesReferenceAtAnyStep,
} from "./trainingLoop.js";

/**
 * Options of {@link train}: the loop's options plus hooks replacing the default component factories.
 *
 * @since 0.1.0
 * @category training
 */
export interface TrainOptions extends TrainingLoopOptions {
  readonly hooks?: Partial<TrainerHooks>;
  /**
   * The `rollout.spawn` servers, already starting (`spawnConfiguredRolloutServers`, e.g. started by
   * the demo before it checks its backend); used when they run on the trainer's backend, else
   * stopped and started again. `train` stops them at the end.
   */
  readonly spawnedServers?: Promise<SpawnedRolloutServers>;
}

/**
 * The default hooks with `overrides` on top.
 *
 * @since 0.1.0
 * @category hooks
 */
export const resolveHooks = (overrides: Partial<TrainerHooks> = {}): TrainerHooks => ({
  ...defaultTrainerHooks,
  ...overrides,
});

/**
 * The trainer as an Effect program over its services: reads the settings, backend, policy,
 * objective, verifier and data from the context and runs the training loop.
 *
 * @since 0.1.0
 * @category training
 */
export const trainProgram = (
  options: TrainingLoopOptions & {
    readonly usesReference?: (config: TrainerConfig) => boolean;
    readonly createRolloutSource?: (
      config: TrainerConfig,
      policy: TrainablePolicy,
      backend: string,
      run: { readonly useReference: boolean },
    ) => Promise<RolloutSource>;
    /** The `rollout.spawn` servers, started before the other components (see `train`). */
    readonly spawnedServers?: Promise<SpawnedRolloutServers>;
  } = {},
): Effect.Effect<
  TrainingSummary,
  TrainerFailure,
  | TrainerSettings
  | TrainerBackend
  | TrainingPolicy
  | TrainingObjective
  | TrainingVerifier
  | TrainingDataSource
> =>
  Effect.gen(function* () {
    const config = yield* TrainerSettings;
    const backend = yield* TrainerBackend;
    const policy = yield* TrainingPolicy;
    const objective = yield* TrainingObjective;
    const verifier = yield* TrainingVerifier;
    const data = yield* TrainingDataSource;
    const useReference =
      options.usesReference?.(config) ?? usesReferenceAtAnyStep(objective, config.train.steps);
    const log = options.log;
    const createRolloutSource =
      options.createRolloutSource ??
      ((settings: TrainerConfig, trained: TrainablePolicy, backendName: string) =>
        createRolloutSourceFromConfig(settings, trained, {
          backend: backendName,
          useReference,
          ...(log === undefined ? {} : { log }),
          ...(options.spawnedServers === undefined ? {} : { spawned: options.spawnedServers }),
          ...(data.heldOut[0] === undefined ? {} : { warmUpRequest: data.heldOut[0].request }),
        }));
    // Rollout servers (spawned or remote) live as long as the run.
    return yield* Effect.scoped(
      Effect.gen(function* () {
        const rolloutSource = yield* Effect.acquireRelease(
          Effect.tryPromise({
            try: () => createRolloutSource(config, policy, backend.name, { useReference }),
            catch: (cause) => (cause instanceof Error ? cause : new Error(String(cause))),
          }),
          (source) => Effect.promise(() => source.close()).pipe(Effect.ignore),
        );
        return yield* Effect.tryPromise({
          try: () =>
            runTrainingLoop(
              {
                config,
                policy,
                objective,
                verifier,
                data,
                useReference,
                backend: backend.name,
                rolloutSource,
              },
              options,
            ),
          catch: (cause) => (cause instanceof Error ? cause : new Error(String(cause))),
        });
      }),
    );
  });

/**
 * Train with a resolved config: imports `config.plugins`, builds every component (default hooks unless overridden), runs the
 * loop and releases the verifier pool. Rejects with the typed error that stopped the run.
 *
 * @since 0.1.0
 * @category training
 */
export const train = async (config: TrainerConfig, options: TrainOptions = {}): Promise<TrainingSummary> => {
  // `apo-train` imported them before decoding the config; programmatic callers get them here
  // (paths relative to the working directory; a module is imported once per process).
  await loadPlugins(config.plugins);
  const hooks = resolveHooks(options.hooks);
  // `rollout.spawn` on a named backend: the servers start now, while the trainer builds its policy
  // and data, instead of after them.
  const spawnedServers =
    options.spawnedServers ??
    (hooks.createRolloutSource === undefined && config.backend !== "auto"
      ? spawnConfiguredRolloutServers(config, {
          backend: config.backend,
          ...(options.log === undefined ? {} : { log: options.log }),
        })
      : undefined);
  spawnedServers?.catch(() => undefined);
  const program = trainProgram({
    ...options,
    ...(hooks.usesReference === undefined ? {} : { usesReference: hooks.usesReference }),
    ...(hooks.createRolloutSource === undefined ? {} : { createRolloutSource: hooks.createRolloutSource }),
    ...(spawnedServers === undefined ? {} : { spawnedServers }),
  }).pipe(Effect.provide(trainerLayer(config, hooks)), Effect.scoped);
  try {
    return await Effect.runPromise(program);
  } finally {
    // Stopped with the rollout source normally; also when the run failed before it was built.
    await (await spawnedServers?.catch(() => undefined))?.stop();
  }
};
