import type { GenerationOptions, GenerationRequest, Rollout } from "@apo-rl/core";
import type { TrainablePolicy } from "../TrainablePolicy.js";

/**
 * Where one group's rollouts came from (one line per request in `metrics.jsonl`).
 *
 * @since 0.1.0
 * @category rollout
 */
export interface RolloutAssignment {
  readonly promptId: string;
  /** The server that returned the group. */
  readonly server: string;
  /** The weight version it was sampled with (the number of optimizer updates before it). */
  readonly weightVersion: number;
  /** Servers tried, the successful one included (1 without failover). */
  readonly attempts: number;
}

/**
 * What the remote rollout backend did during one step: the `rolloutService` field of a
 * `metrics.jsonl` train record.
 *
 * @since 0.1.0
 * @category rollout
 */
export interface RolloutServiceRecord {
  /** The weight version the rollouts were sampled with. */
  readonly weightVersion: number;
  /** Optimizer updates between those weights and the ones being trained (1 with `rollout.async: 1`). */
  readonly staleness: number;
  readonly assignments: ReadonlyArray<RolloutAssignment>;
  /** Requests sent again to another server after a failure. */
  readonly retries: number;
  /** The servers that failed during the step, with why; they take no more requests. */
  readonly failures: ReadonlyArray<{ readonly server: string; readonly reason: string }>;
  readonly liveServers: number;
  /** Seconds spent writing and loading the new weights before the rollouts. */
  readonly syncSeconds: number;
  /** The servers scored the reference log-probs (`rollout.referenceModel`); absent: the trainer did. */
  readonly referenceModel?: string;
}

/**
 * The rollouts of one step and how they were made.
 *
 * @since 0.1.0
 * @category rollout
 */
export interface RolloutBatch {
  readonly rollouts: ReadonlyArray<Rollout>;
  /**
   * Per rollout (same order), the reference policy's log-probs of its tokens, when the source
   * computed them (rollout servers serving the initial weights, or an in-process LoRA policy's
   * twin rows); the step then runs no reference pass of its own.
   */
  readonly referenceLogprobs?: ReadonlyArray<ReadonlyArray<number>>;
  /** The remote backend's record; absent for in-process generation. */
  readonly record?: RolloutServiceRecord;
}

/**
 * Where a step's rollouts come from: the policy in this process, or a pool of rollout servers.
 * `step` is the 0-based step: the weights the rollouts must be sampled with are those after
 * `step` optimizer updates.
 *
 * @since 0.1.0
 * @category rollout
 */
export interface RolloutSource {
  readonly kind: "in-process" | "remote";
  /**
   * `context.reference`: the step needs reference log-probs (a source that can score them with
   * the rollouts returns `referenceLogprobs`; absent: the step runs its reference pass).
   */
  generate(
    requests: ReadonlyArray<GenerationRequest>,
    options: GenerationOptions,
    context: { readonly step: number; readonly reference?: boolean },
  ): Promise<RolloutBatch>;
  /**
   * Register step `context.step`'s requests ahead of time (`rollout.async: 1`): a source that can
   * samples them while the previous step trains, with that step's weights.
   */
  schedule?(
    requests: ReadonlyArray<GenerationRequest>,
    options: GenerationOptions,
    context: { readonly step: number },
  ): void;
  /**
   * Sample held-out prompts for an evaluation with the weights after `context.step` updates (the
   * trainer's current ones), spread over the source's servers; the trainer evaluates in-process
   * when a source has none.
   */
  evaluate?(
    requests: ReadonlyArray<GenerationRequest>,
    options: GenerationOptions,
    context: { readonly step: number },
  ): Promise<ReadonlyArray<Rollout>>;
  /**
   * The trainer's weights are now those after `context.step` updates (called right after a step's
   * update, before the trainer's bookkeeping and the next draw): a source that syncs weights to
   * servers may start now instead of when the next rollouts are asked for.
   */
  prepare?(context: { readonly step: number }): void;
  /**
   * Whether the source would answer now without waiting for servers to start (absent: always).
   * While it is false (`rollout.spawn` servers still starting and warming up) the trainer evaluates
   * in-process instead of waiting; `generate` waits for them.
   */
  ready?(): boolean;
  /** Stop what the source started (spawned servers). */
  close(): Promise<void>;
}

/**
 * Rollouts sampled by the policy being trained, in this process. When the step needs reference
 * log-probs and the policy can score them while it samples (`generateWithReference`: a LoRA
 * policy), they come with the rollouts, unless `referenceInRollout` is `false`.
 *
 * @since 0.1.0
 * @category rollout
 */
export const inProcessRolloutSource = (
  policy: TrainablePolicy,
  settings: { readonly referenceInRollout?: boolean | undefined } = {},
): RolloutSource => ({
  kind: "in-process",
  generate: async (requests, options, context) =>
    context.reference === true &&
    settings.referenceInRollout !== false &&
    policy.generateWithReference !== undefined
      ? policy.generateWithReference(requests, options)
      : { rollouts: await policy.generate(requests, options) },
  close: async () => undefined,
});
