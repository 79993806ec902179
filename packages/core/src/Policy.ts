import type { GenerationRequest } from "./Message.js";
import type { Rollout } from "./Rollout.js";

/**
 * Sampling settings for one call of {@link PolicyV1.generate}.
 *
 * @since 0.1.0
 * @category policies
 */
export interface GenerationOptions {
  /** Responses per prompt (the group size). */
  readonly n: number;
  readonly temperature: number;
  readonly topP?: number;
  readonly topK?: number;
  readonly maxNewTokens: number;
  readonly stopStrings?: ReadonlyArray<string>;
  /** Seed of the sampler: the same seed, requests and weights give the same rollouts. */
  readonly seed: number;
  /**
   * Optional (since 0.2.0), a hint: these rollouts are scored next by `logprobs` with the same
   * weights (an on-policy training step). A policy may keep what sampling computed (its hidden
   * states) to make that pass cheaper, until its weights change or it samples again. The rollouts
   * do not depend on it; a policy may ignore it.
   */
  readonly retainForTraining?: boolean;
}

/**
 * Sequences to score in one training pass: each request's prompt followed by its rollouts' tokens.
 *
 * @since 0.1.0
 * @category policies
 */
export interface PolicyBatch {
  readonly requests: ReadonlyArray<GenerationRequest>;
  /** `rollouts[k]` answers the request whose `promptId` it names. */
  readonly rollouts: ReadonlyArray<Rollout>;
  /** Temperature the rollouts were sampled at; log-probs are computed at the same temperature. */
  readonly temperature: number;
}

/**
 * Per-token log-probabilities of a {@link PolicyBatch}, `[S, T]` with `T` the longest response.
 *
 * @since 0.1.0
 * @category policies
 */
export interface PolicyLogprobs<Tensor> {
  readonly logp: Tensor;
  readonly mask: Tensor;
  /** Per-token entropy `[S, T]`, when the policy computes it in the same pass. */
  readonly entropy?: Tensor;
}

/**
 * Rollouts with each token's log-probability under the frozen reference policy, scored while they
 * were sampled (see {@link PolicyV1.generateWithReference}).
 *
 * @since 0.2.0
 * @category policies
 */
export interface RolloutsWithReference {
  readonly rollouts: ReadonlyArray<Rollout>;
  /** `referenceLogprobs[k][t]`: the reference's log-probability of `rollouts[k].tokenIds[t]`. */
  readonly referenceLogprobs: ReadonlyArray<ReadonlyArray<number>>;
}

/**
 * Version 1 of the policy contract: what a trainer needs from a model.
 *
 * @since 0.1.0
 * @category policies
 */
export interface PolicyV1<Tensor = unknown, Parameter = Tensor> {
  readonly specificationVersion: "v1";
  readonly name: string;
  generate(
    requests: ReadonlyArray<GenerationRequest>,
    options: GenerationOptions,
  ): Promise<ReadonlyArray<Rollout>>;
  /**
   * Optional (since 0.2.0): `generate`, and in the same pass the reference policy's log-probs of
   * every sampled token — what `logprobs(batch, { reference: true })` gives, up to float rounding.
   * A policy offers it where that is cheaper than a separate reference pass (a LoRA policy: its
   * reference is its own base weights). The rollouts equal `generate`'s.
   */
  generateWithReference?(
    requests: ReadonlyArray<GenerationRequest>,
    options: GenerationOptions,
  ): Promise<RolloutsWithReference>;
  /** Differentiable log-probs of the rollouts' tokens; `reference: true` uses the frozen reference policy. */
  logprobs(batch: PolicyBatch, options?: { readonly reference?: boolean }): PolicyLogprobs<Tensor>;
  /** The parameters an optimiser updates. */
  trainableParameters(): ReadonlyArray<Parameter>;
  save(directory: string): Promise<void>;
  load(directory: string): Promise<void>;
}
