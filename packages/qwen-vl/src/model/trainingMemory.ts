import type { Qwen25VLConfig } from "../config/Qwen25VLConfig.js";
import { TrainingMemoryError } from "./errors.js";
import { backendCapacityBytes, estimateQwen25VLMemory } from "./memory.js";
import type { Qwen25VLParts } from "./Qwen25VLParts.js";

/**
 * The shape of one training step, for {@link estimateTrainingStepMemory}.
 *
 * @since 0.2.0
 * @category memory
 */
export interface TrainingStepShape {
  /** Tokens of the largest micro-batch of the forward + backward: rows × padded length. */
  readonly microBatchTokens: number;
  /** Its padded row length (attention scores grow with it). */
  readonly sequenceLength: number;
  /** Rows decoded together during the rollout (prompts × G) and their final length; default none. */
  readonly rolloutRows?: number;
  readonly rolloutLength?: number;
  /** Activation checkpointing ({@link Qwen25VLModel.gradientCheckpointing}); default `true`. */
  readonly gradientCheckpointing?: boolean;
  /** Trainable parameters: each has a gradient and two AdamW moments (12 bytes). Default 0. */
  readonly trainableParameters?: number;
  /** Which weights are resident; default `"text"`. */
  readonly parts?: Qwen25VLParts;
  /**
   * Tokens (prompts and responses) whose decoder states a policy keeps from its rollout for the
   * training pass (`retainForTraining`); default 0.
   *
   * @since 0.2.0
   */
  readonly retainedStateTokens?: number;
}

/**
 * Estimated bytes of a training step, by part (float32 everywhere). See docs/qwen-vl-model.md,
 * "Memory model".
 *
 * @since 0.2.0
 * @category memory
 */
export interface TrainingStepMemoryEstimate {
  readonly weightBytes: number;
  /** Gradients and AdamW moments of the trainable parameters. */
  readonly optimizerBytes: number;
  /** Peak activation bytes per token of the forward + backward. */
  readonly activationBytesPerToken: number;
  /** `activationBytesPerToken × microBatchTokens`. */
  readonly activationBytes: number;
  /** Keys and values of the rollout's KV cache at its longest. */
  readonly rolloutCacheBytes: number;
  /**
   * The rollout's kept decoder states, counted twice: `2 × (L + 1) × hidden` float32 values per
   * retained token (held from the rollout through the training pass, plus what collecting and
   * laying them out costs; calibrated on the 0.5B step of 16 rows × 256 tokens, where keeping
   * 0.36 GiB of states raised the measured heap peak by 0.55–0.67 GiB).
   *
   * @since 0.2.0
   */
  readonly retainedStateBytes: number;
  /** weights + optimizer + retained states + the larger of activations and rollout cache. */
  readonly peakBytes: number;
}

/**
 * Saved activations per token of one decoder layer without checkpointing, in float32 values:
 * `30·H + 25·I + 6·heads·S`. Calibrated on the wasm backend with the Qwen2.5-0.5B shape (measured
 * 614 KiB per token per layer at S = 64 with `startHeapMeter`; the formula gives 601 KiB).
 */
const storedPerLayer = (config: Qwen25VLConfig, length: number): number => {
  const { hiddenSize, intermediateSize, numAttentionHeads } = config.text;
  return 30 * hiddenSize + 25 * intermediateSize + 6 * numAttentionHeads * length;
};

/**
 * With checkpointing: each layer keeps its input and, during the backward, its input's gradient
 * (`≈ 2.4·H` values per token, measured 8.4 KiB at H = 896), and one layer at a time is recomputed
 * with the LM head's log-prob chunks alongside: `20·H + 15·I + 2·heads·S` values (measured 368 KiB
 * at S = 64 and 373 KiB at S = 160 for the 0.5B shape; the formula gives 362 and 373).
 */
const checkpointedPerToken = (config: Qwen25VLConfig, length: number): number => {
  const { hiddenSize, intermediateSize, numAttentionHeads, numHiddenLayers } = config.text;
  const recomputed = 20 * hiddenSize + 15 * intermediateSize + 2 * numAttentionHeads * length;
  return numHiddenLayers * 2.4 * hiddenSize + recomputed;
};

/**
 * Bytes per token of the decoder's forward + backward activations: with checkpointing (the
 * default) or without. Float32 values × 4; calibrated on wasm (see {@link TrainingStepMemoryEstimate}).
 *
 * @since 0.2.0
 * @category memory
 */
export const activationBytesPerToken = (
  config: Qwen25VLConfig,
  sequenceLength: number,
  gradientCheckpointing = true,
): number =>
  4 *
  (gradientCheckpointing
    ? checkpointedPerToken(config, sequenceLength)
    : config.text.numHiddenLayers * storedPerLayer(config, sequenceLength));

/**
 * Estimate the peak memory of a training step before running it, from the memory model of
 * docs/qwen-vl-model.md: weights, the trainable parameters' gradient and AdamW moments, the
 * decoder states kept from the rollout (if any), and the larger of the forward + backward
 * activations of the largest micro-batch and the rollout's KV cache.
 *
 * @since 0.2.0
 * @category memory
 */
export const estimateTrainingStepMemory = (
  config: Qwen25VLConfig,
  shape: TrainingStepShape,
): TrainingStepMemoryEstimate => {
  const weightBytes = estimateQwen25VLMemory(config, shape.parts ?? "text").weightBytes;
  const optimizerBytes = 12 * (shape.trainableParameters ?? 0);
  const perToken = activationBytesPerToken(config, shape.sequenceLength, shape.gradientCheckpointing ?? true);
  const activationBytes = perToken * shape.microBatchTokens;
  const { numHiddenLayers, numKeyValueHeads, headDim } = config.text;
  const rolloutCacheBytes =
    (shape.rolloutRows ?? 0) *
    (shape.rolloutLength ?? 0) *
    numHiddenLayers *
    2 *
    numKeyValueHeads *
    headDim *
    4;
  const retainedStateBytes =
    2 * (shape.retainedStateTokens ?? 0) * (numHiddenLayers + 1) * config.text.hiddenSize * 4;
  return {
    weightBytes,
    optimizerBytes,
    activationBytesPerToken: perToken,
    activationBytes,
    rolloutCacheBytes,
    retainedStateBytes,
    peakBytes:
      weightBytes + optimizerBytes + retainedStateBytes + Math.max(activationBytes, rolloutCacheBytes),
  };
};

/**
 * Names of the settings {@link assertTrainingStepFits} points to.
 *
 * @since 0.2.0
 * @category memory
 */
export interface TrainingMemorySettings {
  /** What bounds a micro-batch's tokens. Default `"train.maxTokensPerMicroBatch"`. */
  readonly microBatchTokens?: string;
  /** What bounds the rollout. Default `"rollout.maxNewTokens"`. */
  readonly rollout?: string;
  /**
   * What turns the rollout's retained states off. Default `"rollout.retainStates"`.
   *
   * @since 0.2.0
   */
  readonly retainedStates?: string;
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(2)} GiB`;

/**
 * Refuse a step whose estimated peak exceeds what `backend` can hold (wasm: its 4 GiB heap less a
 * reserve), with a {@link TrainingMemoryError} naming the setting to lower: the rollout's retained
 * states when the step fits without them, activation checkpointing when it is off, else the
 * micro-batch's token budget or the rollout, whichever dominates; the backend itself when the
 * weights and optimizer state alone do not fit. Backends of unknown capacity (GPU) pass.
 *
 * @since 0.2.0
 * @category memory
 */
export const assertTrainingStepFits = (
  backend: string,
  estimate: TrainingStepMemoryEstimate,
  settings: TrainingMemorySettings = {},
  gradientCheckpointing = true,
): void => {
  const capacity = backendCapacityBytes(backend);
  if (capacity === undefined || estimate.peakBytes <= capacity) return;
  const resident = estimate.weightBytes + estimate.optimizerBytes;
  const fail = (setting: string, reason: string) => {
    throw new TrainingMemoryError({
      backend,
      requiredBytes: estimate.peakBytes,
      availableBytes: capacity,
      setting,
      reason,
    });
  };
  const summary = `the step needs about ${gib(estimate.peakBytes)} (weights ${gib(estimate.weightBytes)}, optimizer ${gib(estimate.optimizerBytes)}, activations ${gib(estimate.activationBytes)}, rollout cache ${gib(estimate.rolloutCacheBytes)}, retained rollout states ${gib(estimate.retainedStateBytes)}) but ${backend} holds ${gib(capacity)}`;
  if (resident > capacity) fail("backend", `${summary}; the weights alone do not fit: use a larger backend`);
  if (estimate.retainedStateBytes > 0 && estimate.peakBytes - estimate.retainedStateBytes <= capacity)
    fail(
      settings.retainedStates ?? "rollout.retainStates",
      `${summary}; it fits without keeping the rollout's states: set it to false`,
    );
  if (!gradientCheckpointing && estimate.activationBytes >= estimate.rolloutCacheBytes)
    fail("model.gradientCheckpointing", `${summary}; turn activation checkpointing on`);
  if (estimate.activationBytes >= estimate.rolloutCacheBytes) {
    const tokens = Math.floor(
      (capacity - resident - estimate.retainedStateBytes) / estimate.activationBytesPerToken,
    );
    fail(
      settings.microBatchTokens ?? "train.maxTokensPerMicroBatch",
      `${summary}; at most ${tokens} tokens fit in one micro-batch`,
    );
  }
  fail(settings.rollout ?? "rollout.maxNewTokens", `${summary}; the rollout's KV cache is what overflows`);
};
