import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { GenerationOptions, GenerationRequest, Rollout } from "@apo-rl/core";
import type { TrainablePolicy } from "../TrainablePolicy.js";
import { RolloutServiceError } from "./errors.js";
import type { RolloutAssignment, RolloutServiceRecord, RolloutSource } from "./RolloutSource.js";
import type { RemoteChoice, RolloutServerClient } from "./rolloutServerClient.js";

/**
 * How new weights reach the servers: `lora` saves the PEFT adapter and loads it under a new name per
 * version (vLLM's and SGLang's `load_lora_adapter`, the previous one unloaded); `disk` saves a full
 * checkpoint and asks every server to read it (SGLang's `update_weights_from_disk`).
 *
 * @since 0.1.0
 * @category rollout
 */
export type WeightSync = "lora" | "disk";

/**
 * How a step's requests (one per prompt) are spread over the servers: `spread` sends each to the
 * live server with the fewest requests in flight, so the servers sample a step's groups in parallel
 * (the shortest wait); `pack` sends all of a step's requests to one server — the one with the fewest
 * in flight, the least recently packed on a tie, so the servers take turns step by step — which
 * decodes them as one batch: the least work in all, for servers that share the trainer's cores
 * (`rollout.spawn`) and sample beside the training (`rollout.async`). A failed server's requests
 * fail over to the others either way. Evaluations always spread.
 *
 * @since 0.2.0
 * @category rollout
 */
export type RolloutDispatch = "spread" | "pack";

/**
 * Options of {@link remoteRolloutSource}.
 *
 * @since 0.1.0
 * @category rollout
 */
export interface RemoteRolloutSourceOptions {
  readonly clients: ReadonlyArray<RolloutServerClient>;
  /** The policy being trained: its `save` writes what the servers load. */
  readonly policy: TrainablePolicy;
  readonly weightSync: WeightSync;
  /** The base model's name on the servers (requests name it under `disk` sync). */
  readonly baseModel: string;
  /** Where each weight version is written for the servers to read (`<directory>/v<N>`). */
  readonly syncDirectory: string;
  /**
   * The model id on the servers that holds the initial weights (the KL reference): each group's
   * reference log-probs are then scored by the server that sampled it, right after sampling, and
   * the trainer runs no reference pass. Absent: the trainer computes them.
   */
  readonly referenceModel?: string;
  /**
   * Requests one server runs or holds queued at once (default 2). Rollouts sampled ahead
   * (`schedule`) and `pack` dispatch send all of a step's requests at once regardless, up to 64 per
   * server (apo-serve's default `--max-queue`): the trainer cannot send more while it trains, and a
   * pack is one batch.
   */
  readonly maxInFlightPerServer?: number;
  /** How a step's requests are spread over the servers (default `spread`). */
  readonly dispatch?: RolloutDispatch;
  /** Informational lines (failovers). */
  readonly log?: (line: string) => void;
  /** Stops spawned servers on `close`. */
  readonly onClose?: () => Promise<void>;
}

/**
 * Held-out requests one server holds at once during an evaluation: enough for apo-serve (and vLLM,
 * SGLang) to decode them in full batches (apo-serve's `--max-batch` 32) with the next batch already
 * queued, within apo-serve's default `--max-queue` (64). The demo's 128 held-out prompts on two
 * servers took 0.62–0.89 s this way against 0.90–1.45 s with 16 (2-core machine, load 4.7–6).
 */
const EVALUATION_IN_FLIGHT_PER_SERVER = 64;

/**
 * Most requests one server holds at once when a step's requests go out together (rollouts sampled
 * ahead, a pack): apo-serve's default `--max-queue`, beyond which it answers 429. A step with more
 * groups per server sends the rest as answers come back.
 */
const AT_ONCE_PER_SERVER = 64;

/** A request's error that every server would give (a bad request), as opposed to a server's failure. */
const isRequestFault = (error: unknown) =>
  error instanceof RolloutServiceError && /answered (400|413|422):/.test(error.reason);

/**
 * A 32-bit seed per request from the step's seed and the request's position: the same on every
 * server, so a retried group is sampled again exactly (with the same weights).
 */
const requestSeed = (seed: number, index: number): number => {
  let state = (Math.floor(seed) ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  state = Math.imul(state ^ (state >>> 16), 0x85ebca6b);
  state = Math.imul(state ^ (state >>> 13), 0xc2b2ae35);
  return (state ^ (state >>> 16)) >>> 0;
};

interface ServerState {
  readonly client: RolloutServerClient;
  inFlight: number;
  live: boolean;
  syncedVersion: number;
  adapterName: string | undefined;
  /**
   * Whether to ask the server for the reference log-probs with the sampling (apo-serve's
   * `reference_model`); cleared when it answers without them (vLLM, SGLang ignore the field), and
   * the reference is then scored by a request of its own.
   */
  inlineReference: boolean;
  /** When the server last took a pack (`dispatch: pack`; -1: never). */
  lastPacked: number;
}

/**
 * Rollouts from a pool of OpenAI-compatible servers (apo-serve, vLLM, SGLang). Before the rollouts
 * of step `k` every live server gets the weights after `k` updates (version `k`; written once by
 * `policy.save`, loaded per server). Each request (one prompt, `n` = group size) goes to the live
 * server with the fewest requests in flight, or all of a step's to one server with `dispatch: pack`
 * (see {@link RolloutDispatch}); a server that fails or times out is dropped and its
 * requests are sent to another one, so every group is sampled exactly once. The step fails with a
 * {@link RolloutServiceError} only when no server is left (or a request is refused as invalid).
 * The servers' log-probs become the rollouts' `logprobs`, the objective's old log-probs.
 *
 * @since 0.1.0
 * @category rollout
 */
export const remoteRolloutSource = (options: RemoteRolloutSourceOptions): RolloutSource => {
  const log = options.log ?? (() => undefined);
  const limit = options.maxInFlightPerServer ?? 2;
  const serverReference = options.referenceModel;
  const servers: ServerState[] = options.clients.map((client) => ({
    client,
    inFlight: 0,
    live: true,
    syncedVersion: -1,
    adapterName: undefined,
    inlineReference: true,
    lastPacked: -1,
  }));
  const dispatchMode = options.dispatch ?? "spread";
  let packs = 0;
  if (servers.length === 0)
    throw new RolloutServiceError({ server: null, reason: "no rollout server was given" });
  let writtenVersion = -1;
  const failures: Array<{ server: string; reason: string }> = [];

  const drop = (server: ServerState, error: unknown) => {
    if (!server.live) return;
    server.live = false;
    const reason = error instanceof Error ? error.message : String(error);
    failures.push({ server: server.client.url, reason });
    log(`rollout server ${server.client.url} dropped: ${reason}`);
  };
  const liveServers = () => servers.filter((server) => server.live);
  const noneLeft = (what: string) =>
    new RolloutServiceError({
      server: null,
      reason: `no rollout server is left ${what} (${failures.map((failure) => `${failure.server}: ${failure.reason}`).join("; ")})`,
    });

  const versionDirectory = (version: number) => join(options.syncDirectory, `v${version}`);

  /** Writes under way by version: whoever asks for a version while it is written waits for the same one. */
  const writing = new Map<number, Promise<void>>();
  /** Write weight version `version` once (the policy's weights now). */
  const write = (version: number): Promise<void> => {
    if (writtenVersion === version) return Promise.resolve();
    let running = writing.get(version);
    if (running === undefined) {
      running = (async () => {
        await mkdir(options.syncDirectory, { recursive: true });
        await options.policy.save(versionDirectory(version));
        if (writtenVersion >= 0) await rm(versionDirectory(writtenVersion), { recursive: true, force: true });
        writtenVersion = version;
      })().finally(() => writing.delete(version));
      writing.set(version, running);
    }
    return running;
  };

  /** Loads under way per server: one at a time, and whoever asks for the same version waits for it. */
  const loading = new Map<ServerState, { readonly version: number; readonly done: Promise<void> }>();
  /**
   * Load the written weight version `version` on `server` unless it holds it or a later one (a
   * group sampled ahead and retried after the next version reached an idle server is sampled with
   * the later weights, and records them); a failure drops the server (and rejects).
   */
  const loadOn = (server: ServerState, version: number): Promise<void> => {
    if (server.syncedVersion >= version) return Promise.resolve();
    const current = loading.get(server);
    if (current !== undefined && current.version >= version) return current.done;
    const done = (async () => {
      await current?.done.catch(() => undefined);
      if (server.syncedVersion >= version) return;
      try {
        if (options.weightSync === "disk")
          await server.client.updateWeightsFromDisk(versionDirectory(version), String(version));
        else {
          const name = `${options.baseModel}-v${version}`;
          await server.client.loadLoraAdapter(name, versionDirectory(version));
          const previous = server.adapterName;
          server.adapterName = name;
          if (previous !== undefined) await server.client.unloadLoraAdapter(previous).catch(() => undefined);
        }
        server.syncedVersion = version;
      } catch (error) {
        drop(server, error);
        throw error;
      }
    })().finally(() => {
      if (loading.get(server)?.done === done) loading.delete(server);
    });
    loading.set(server, { version, done });
    return done;
  };

  /** Load the written weight version `version` on `targets` (every live server) that lack it. */
  const load = async (version: number, targets: ReadonlyArray<ServerState> = liveServers()) => {
    await Promise.all(targets.map((server) => loadOn(server, version).catch(() => undefined)));
    if (liveServers().length === 0) throw noneLeft(`after loading weight version ${version}`);
  };

  /**
   * The server a pack goes to among `candidates`: the fewest requests in flight, then the least
   * recently packed (so the servers take turns).
   */
  const packServer = (candidates: ReadonlyArray<ServerState>): ServerState =>
    candidates.reduce((best, candidate) =>
      candidate.inFlight < best.inFlight ||
      (candidate.inFlight === best.inFlight && candidate.lastPacked < best.lastPacked)
        ? candidate
        : best,
    );

  /**
   * Write weight version `version` once and load it on every live server that lacks it (concurrent
   * callers share the write and each server's load).
   */
  const sync = async (version: number): Promise<void> => {
    await write(version);
    await load(version);
  };

  const modelOf = (server: ServerState) =>
    options.weightSync === "disk" ? options.baseModel : (server.adapterName ?? options.baseModel);

  /**
   * Sample every request once on the live servers with weight version `version` (a server that
   * lacks it loads it first), with failover; `pack`: all on one server while it lives (see
   * {@link RolloutDispatch}).
   */
  const sample = async (
    requests: ReadonlyArray<GenerationRequest>,
    generation: GenerationOptions,
    step: number,
    version: number,
    perServer: number = limit,
    withReference = false,
    pack = false,
  ) => {
    const capacity = pack ? Math.max(perServer, Math.min(requests.length, AT_ONCE_PER_SERVER)) : perServer;
    let packedOn: ServerState | undefined;
    const failuresBefore = failures.length;
    const results: Array<
      | {
          choices: ReadonlyArray<RemoteChoice>;
          reference: ReadonlyArray<ReadonlyArray<number>> | undefined;
          assignment: RolloutAssignment;
        }
      | undefined
    > = requests.map(() => undefined);
    const attempts = requests.map(() => 0);
    const pending = requests.map((_, index) => index);
    let retries = 0;

    await new Promise<void>((resolve, reject) => {
      let running = 0;
      let settled = false;
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        if (error === undefined) resolve();
        else reject(error);
      };
      const dispatch = () => {
        if (settled) return;
        if (pending.length === 0 && running === 0) return finish();
        while (pending.length > 0) {
          const candidates = liveServers().filter((server) => server.inFlight < capacity);
          if (liveServers().length === 0) return finish(noneLeft(`to sample step ${step + 1}'s rollouts`));
          if (candidates.length === 0) return;
          if (pack && packedOn?.live !== true) {
            packedOn = packServer(candidates);
            packedOn.lastPacked = packs++;
          }
          const server =
            packedOn?.live === true
              ? packedOn
              : candidates.reduce((best, candidate) =>
                  candidate.inFlight < best.inFlight ? candidate : best,
                );
          if (server.inFlight >= capacity) return;
          const index = pending.shift()!;
          const request: GenerationRequest = requests[index]!;
          attempts[index]! += 1;
          server.inFlight += 1;
          running += 1;
          const options: GenerationOptions = { ...generation, seed: requestSeed(generation.seed, index) };
          const referenceModel = withReference ? serverReference : undefined;
          const inline = referenceModel !== undefined && server.inlineReference;
          // The server's weight sync failed: it is dropped already, and the request goes elsewhere.
          let syncFailed = false;
          let weightVersion = version;
          loadOn(server, version)
            .then(
              () => {
                weightVersion = server.syncedVersion;
                return server.client.generate(
                  modelOf(server),
                  request,
                  options,
                  inline ? { referenceModel } : undefined,
                );
              },
              (error: unknown) => {
                syncFailed = true;
                throw error;
              },
            )
            .then(async (generated) => {
              const choices = generated.choices;
              if (referenceModel === undefined) return { choices, reference: undefined };
              // Scored with the sampling, in the same request (apo-serve).
              if (inline && choices.every((choice) => choice.referenceLogprobs !== undefined))
                return { choices, reference: choices.map((choice) => choice.referenceLogprobs!) };
              if (inline) {
                server.inlineReference = false;
                log(
                  `rollout server ${server.client.url} returned no reference_logprobs: scoring the reference with requests of their own`,
                );
              }
              // The server that sampled the group scores it: it still holds the prompt's images.
              const reference = await server.client.scoreResponses(
                referenceModel,
                generated,
                choices.map((choice) => choice.tokenIds),
                generation.temperature,
              );
              return { choices, reference };
            })
            .then(
              ({ choices, reference }) => {
                if (results[index] !== undefined)
                  throw new RolloutServiceError({
                    server: server.client.url,
                    reason: `request ${index} answered twice`,
                  });
                results[index] = {
                  choices,
                  reference,
                  assignment: {
                    promptId: request.promptId,
                    server: server.client.url,
                    weightVersion,
                    attempts: attempts[index]!,
                  },
                };
              },
              (error: unknown) => {
                if (!syncFailed && isRequestFault(error)) return finish(error);
                drop(server, error);
                retries += 1;
                pending.unshift(index);
              },
            )
            .catch(finish)
            .finally(() => {
              server.inFlight -= 1;
              running -= 1;
              dispatch();
            });
        }
      };
      dispatch();
    });

    const rollouts: Rollout[] = [];
    const references: Array<ReadonlyArray<number>> = [];
    results.forEach((result, index) => {
      if (result === undefined)
        throw new RolloutServiceError({ server: null, reason: `request ${index} got no rollouts` });
      result.choices.forEach((choice, groupIndex) => {
        rollouts.push({
          promptId: requests[index]!.promptId,
          groupIndex,
          tokenIds: [...choice.tokenIds],
          logprobs: [...choice.logprobs],
          text: choice.text,
          finishReason: choice.finishReason,
        });
        if (result.reference !== undefined) references.push(result.reference[groupIndex]!);
      });
    });
    const assignments = results.map((result) => result!.assignment);
    return {
      rollouts,
      referenceLogprobs: withReference && serverReference !== undefined ? references : undefined,
      assignments,
      retries,
      failures: failures.slice(failuresBefore),
    };
  };

  type Sampled = Awaited<ReturnType<typeof sample>>;
  /** The next step's requests, registered by `schedule`; sampled once this step's rollouts are in. */
  const scheduled = new Map<
    number,
    { requests: ReadonlyArray<GenerationRequest>; generation: GenerationOptions; running?: Promise<Sampled> }
  >();
  const canonical = (generation: GenerationOptions) =>
    JSON.stringify(Object.entries(generation).sort(([left], [right]) => left.localeCompare(right)));
  const sameRequests = (left: ReadonlyArray<GenerationRequest>, right: ReadonlyArray<GenerationRequest>) =>
    left.length === right.length &&
    left.every((request, index) => request.promptId === right[index]!.promptId);

  return {
    kind: "remote",
    schedule: (requests, generation, context) => {
      scheduled.set(context.step, { requests, generation });
    },
    prepare: (context) => {
      // With rollouts sampled ahead (`rollout.async`) some servers still sample with the weights
      // before: the new ones are written now (while the trainer logs the step) and loaded by the
      // servers that are idle (with `dispatch: pack`, the next in turn); `generate` has the others
      // load them once those rollouts are in.
      if ([...scheduled.values()].some((next) => next.running !== undefined)) {
        write(context.step)
          .then(() =>
            load(
              context.step,
              liveServers().filter((server) => server.inFlight === 0),
            ),
          )
          .catch(() => undefined);
        return;
      }
      // The servers load the new weights while the trainer logs the step and draws the next
      // prompts; a failure is met again (and reported) by the `generate` that needs them.
      sync(context.step).catch(() => undefined);
    },
    generate: async (requests, generation, context) => {
      const step = context.step;
      const prefetched = scheduled.get(step);
      scheduled.delete(step);
      let syncSeconds = 0;
      const timed = async (work: Promise<void>) => {
        const started = performance.now();
        await work;
        syncSeconds += (performance.now() - started) / 1000;
      };
      let sampled: Sampled;
      if (
        prefetched?.running !== undefined &&
        sameRequests(prefetched.requests, requests) &&
        canonical(prefetched.generation) === canonical(generation)
      )
        sampled = await prefetched.running;
      else {
        await prefetched?.running?.catch(() => undefined);
        await timed(sync(step));
        sampled = await sample(requests, generation, step, step, limit, true, dispatchMode === "pack");
      }
      // Off-policy by one step: the next step's rollouts are sampled with this step's weights while it trains.
      const next = scheduled.get(step + 1);
      if (next !== undefined) {
        const pack = dispatchMode === "pack";
        if (liveServers().length === 0) throw noneLeft(`to sample step ${step + 2}'s rollouts`);
        // This step's weights, written ahead (`prepare`), must be on the servers the requests go to
        // before they leave: with `pack` the next server in turn (which loaded them while it was
        // idle), the others meanwhile.
        await timed(write(step).then(() => load(step, pack ? [packServer(liveServers())] : liveServers())));
        // Every request leaves now: while the step trains, this thread cannot send more.
        const perServer = Math.max(
          limit,
          Math.min(Math.ceil(next.requests.length / Math.max(liveServers().length, 1)), AT_ONCE_PER_SERVER),
        );
        next.running = sample(next.requests, next.generation, step + 1, step, perServer, true, pack);
        next.running.catch(() => undefined);
        // The other servers load this step's weights meanwhile, for the packs after.
        if (pack) load(step).catch(() => undefined);
        // The step that trains next computes synchronously and holds this thread's event loop:
        // let the next step's requests leave first, so that the servers sample while it trains.
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const weightVersion = Math.min(
        step,
        ...sampled.assignments.map((assignment) => assignment.weightVersion),
      );
      const record: RolloutServiceRecord = {
        weightVersion,
        staleness: step - weightVersion,
        assignments: sampled.assignments,
        retries: sampled.retries,
        failures: sampled.failures,
        liveServers: liveServers().length,
        syncSeconds,
        ...(sampled.referenceLogprobs === undefined ? {} : { referenceModel: serverReference! }),
      };
      return {
        rollouts: sampled.rollouts,
        ...(sampled.referenceLogprobs === undefined ? {} : { referenceLogprobs: sampled.referenceLogprobs }),
        record,
      };
    },
    evaluate: async (requests, generation, context) => {
      // Rollouts sampled ahead (`rollout.async`) finish with the weights they started with first.
      for (const next of scheduled.values()) await next.running?.catch(() => undefined);
      await sync(context.step);
      const sampled = await sample(
        requests,
        generation,
        context.step,
        context.step,
        Math.max(limit, EVALUATION_IN_FLIGHT_PER_SERVER),
      );
      return sampled.rollouts;
    },
    close: async () => {
      for (const next of scheduled.values()) await next.running?.catch(() => undefined);
      scheduled.clear();
      await options.onClose?.();
      await rm(options.syncDirectory, { recursive: true, force: true });
    },
  };
};
