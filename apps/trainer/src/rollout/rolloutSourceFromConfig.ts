import { accessSync, constants, mkdtempSync, statSync } from "node:fs";
import { join } from "node:path";
import type { GenerationRequest } from "@apo-rl/core";
import { checkpointDirectoryOf } from "../qwen/qwenPolicyFromConfig.js";
import type { TrainablePolicy } from "../TrainablePolicy.js";
import type { TrainerConfig } from "../TrainerConfig.js";
import { RolloutServiceError } from "./errors.js";
import { inProcessRolloutSource, type RolloutSource } from "./RolloutSource.js";
import { remoteRolloutSource } from "./remoteRolloutSource.js";
import { rolloutGenerationOptions } from "./rolloutGenerationOptions.js";
import { rolloutServerClient } from "./rolloutServerClient.js";
import { type SpawnedRolloutServers, spawnRolloutServers } from "./spawnRolloutServers.js";
import { startingRolloutSource } from "./startingRolloutSource.js";
import { warmUpRolloutServers } from "./warmUpRolloutServers.js";

/** The name spawned `apo-serve` processes serve the policy under. */
const SPAWNED_MODEL_NAME = "policy";
/** The name spawned `apo-serve` processes serve the initial weights under (full-weight sync). */
const SPAWNED_REFERENCE_NAME = "policy-reference";

const weightSyncOf = (config: TrainerConfig) =>
  config.rollout.weightSync ?? (config.model.lora === undefined ? "disk" : "lora");

/**
 * Where the weights for spawned servers go: they run on this machine, so a memory-backed directory
 * (Linux's `/dev/shm`) when there is one, which spares the per-step disk writes and flushes; else
 * the run directory. Servers given by URL read the run directory (a shared disk).
 */
const spawnedSyncDirectory = (runDirectory: string): string => {
  const memory = "/dev/shm";
  try {
    accessSync(memory, constants.W_OK);
    if (statSync(memory).isDirectory()) return mkdtempSync(join(memory, "apo-rollout-weights-"));
  } catch {
    // No writable /dev/shm: the run directory.
  }
  return join(runDirectory, "rollout-weights");
};

/**
 * Options of {@link createRolloutSourceFromConfig}.
 *
 * @since 0.1.0
 * @category rollout
 */
export interface RolloutSourceSetup {
  /** The tfjs backend the trainer runs on (spawned servers use the same). */
  readonly backend: string;
  /** The command that runs `apo-serve` for `rollout.spawn` (default: the built `dist/serveCli.js`). */
  readonly serveCommand?: ReadonlyArray<string>;
  readonly log?: (line: string) => void;
  /**
   * Whether the run uses a reference policy (a KL term): the servers then score the reference
   * log-probs when they serve the initial weights (`rollout.referenceModel`, or spawned servers).
   */
  readonly useReference?: boolean;
  /**
   * Servers of `rollout.spawn` already starting (see {@link spawnConfiguredRolloutServers}), so that
   * their start overlaps the trainer's own; used when they run on `backend`, else stopped.
   */
  readonly spawned?: Promise<SpawnedRolloutServers>;
  /**
   * A prompt like the training ones (e.g. the first held-out one): spawned servers are warmed up
   * with it once they listen, before the source reports itself ready.
   */
  readonly warmUpRequest?: GenerationRequest;
}

/**
 * Start the `apo-serve` processes of `config.rollout.spawn` (on `backend`), e.g. before the trainer
 * loads its own policy and data so that both start at once; pass them on as
 * `RolloutSourceSetup.spawned`. Undefined when the config spawns none.
 *
 * @since 0.1.0
 * @category rollout
 */
export const spawnConfiguredRolloutServers = (
  config: TrainerConfig,
  setup: Omit<RolloutSourceSetup, "spawned">,
): Promise<SpawnedRolloutServers> | undefined => {
  const spawn = config.rollout.spawn ?? 0;
  if (spawn === 0) return undefined;
  return spawnRolloutServers({
    count: spawn,
    model: checkpointDirectoryOf(config),
    servedModelName: SPAWNED_MODEL_NAME,
    // Full-weight sync replaces the served weights: keep the initial ones as the reference.
    ...(weightSyncOf(config) === "disk" ? { referenceModelName: SPAWNED_REFERENCE_NAME } : {}),
    backend: setup.backend,
    ...(setup.serveCommand === undefined ? {} : { command: setup.serveCommand }),
    ...(setup.log === undefined ? {} : { log: setup.log }),
  });
};

/** The remote source of `config.rollout` once its servers (spawned ones started and warmed up) are up. */
const connectRolloutSource = async (
  config: TrainerConfig,
  policy: TrainablePolicy,
  setup: RolloutSourceSetup,
  awaited: () => boolean,
): Promise<RolloutSource> => {
  const { rollout } = config;
  const servers = rollout.servers ?? [];
  const spawn = rollout.spawn ?? 0;
  let spawned: SpawnedRolloutServers | undefined;
  if (setup.spawned !== undefined) {
    spawned = await setup.spawned;
    if (spawned.backend !== setup.backend || spawned.urls.length !== spawn) {
      await spawned.stop();
      spawned = undefined;
    }
  }
  if (spawn > 0 && spawned === undefined) spawned = await spawnConfiguredRolloutServers(config, setup);
  try {
    const apiKey = process.env["APO_ROLLOUT_API_KEY"] || undefined;
    const clients = (spawned?.urls ?? servers).map((url) =>
      rolloutServerClient(url, {
        timeoutMs: (rollout.requestTimeoutSeconds ?? 300) * 1000,
        ...(apiKey === undefined ? {} : { apiKey }),
      }),
    );
    let baseModel = rollout.model ?? (spawned === undefined ? undefined : SPAWNED_MODEL_NAME);
    if (baseModel === undefined) {
      baseModel = (await clients[0]!.modelIds())[0];
      if (baseModel === undefined)
        throw new RolloutServiceError({
          server: clients[0]!.url,
          reason: "/v1/models lists no model; set rollout.model",
        });
    }
    const weightSync = weightSyncOf(config);
    const referenceModel =
      setup.useReference !== true
        ? undefined
        : (rollout.referenceModel ??
          (spawned === undefined
            ? undefined
            : weightSync === "disk"
              ? SPAWNED_REFERENCE_NAME
              : SPAWNED_MODEL_NAME));
    const maxInFlightPerServer = rollout.maxInFlightPerServer ?? 2;
    const source = remoteRolloutSource({
      clients,
      policy,
      weightSync,
      baseModel,
      syncDirectory:
        spawned === undefined
          ? join(config.output.runDir, "rollout-weights")
          : spawnedSyncDirectory(config.output.runDir),
      maxInFlightPerServer,
      ...(rollout.dispatch === undefined ? {} : { dispatch: rollout.dispatch }),
      ...(referenceModel === undefined ? {} : { referenceModel }),
      ...(setup.log === undefined ? {} : { log: setup.log }),
      ...(spawned === undefined ? {} : { onClose: spawned.stop }),
    });
    if (spawned !== undefined && setup.warmUpRequest !== undefined)
      await warmUpRolloutServers(clients, {
        model: baseModel,
        request: setup.warmUpRequest,
        generation: rolloutGenerationOptions(rollout, 0),
        ...(referenceModel === undefined ? {} : { referenceModel }),
        perServer:
          rollout.dispatch === "pack"
            ? config.train.promptsPerStep
            : Math.max(
                1,
                Math.min(maxInFlightPerServer, Math.ceil(config.train.promptsPerStep / clients.length)),
              ),
        stop: awaited,
      });
    return source;
  } catch (error) {
    await spawned?.stop();
    throw error;
  }
};

/**
 * The rollout source of `config.rollout`: in-process unless `servers` or `spawn` is set; then a pool
 * of rollout servers (spawned on loopback ports for `spawn`, stopped by `close`). The bearer token
 * of the servers, if any, comes from `APO_ROLLOUT_API_KEY`.
 *
 * With `spawn` the source is returned at once, while its servers start and warm up
 * ({@link warmUpRolloutServers} with `setup.warmUpRequest`): its `ready()` is false until then, so
 * the trainer evaluates in-process meanwhile, and its first `generate` waits for them. A server that
 * fails to start fails that first call.
 *
 * @since 0.1.0
 * @category rollout
 */
export const createRolloutSourceFromConfig = async (
  config: TrainerConfig,
  policy: TrainablePolicy,
  setup: RolloutSourceSetup,
): Promise<RolloutSource> => {
  const { rollout } = config;
  const servers = rollout.servers ?? [];
  const spawn = rollout.spawn ?? 0;
  if (servers.length === 0 && spawn === 0)
    return inProcessRolloutSource(policy, { referenceInRollout: rollout.referenceInRollout });
  if (spawn === 0) return connectRolloutSource(config, policy, setup, () => true);
  return startingRolloutSource((awaited) => connectRolloutSource(config, policy, setup, awaited));
};
