import { assertTrainingStepFits, estimateTrainingStepMemory, type QwenVLPolicy } from "@apo-rl/qwen-vl";
import * as tf from "@tensorflow/tfjs-core";
import type { TrainerConfig } from "../TrainerConfig.js";

/**
 * Refuse, before the first step, a run whose training step would not fit the active backend's
 * memory (the wasm heap: an overflow there aborts the process and cannot be caught). The estimate
 * is `estimateTrainingStepMemory` of @apo-rl/qwen-vl for the run's worst case: every response at
 * `rollout.maxNewTokens`, prompts at `data.maxPromptTokens` (when set), a micro-batch of
 * `train.maxTokensPerMicroBatch` response tokens (else every row of the step at once), and the
 * rollout's KV cache for `promptsPerStep × groupSize` rows (twice that when a LoRA policy decodes
 * reference twins, `rollout.referenceInRollout`), and the decoder states a LoRA policy keeps from
 * that rollout for the loss pass (`rollout.retainStates`). A `TrainingMemoryError` names the
 * setting to lower. Backends of unknown capacity (GPU, cpu) pass.
 *
 * @since 0.2.0
 * @category policies
 */
export const assertStepFitsBackend = (config: TrainerConfig, policy: QwenVLPolicy): void => {
  const rows = config.train.promptsPerStep * config.rollout.groupSize;
  const response = config.rollout.maxNewTokens;
  const length = (config.data.maxPromptTokens ?? 0) + response;
  const budget = config.train.maxTokensPerMicroBatch;
  const microBatchRows =
    budget === undefined ? rows : Math.min(rows, Math.max(1, Math.floor(budget / response)));
  const twins =
    policy.generateWithReference !== undefined &&
    config.rollout.referenceInRollout !== false &&
    (config.rollout.servers?.length ?? 0) === 0 &&
    (config.rollout.spawn ?? 0) === 0;
  // A LoRA policy keeps its in-process rollout's decoder states for the loss pass (`rollout.retainStates`).
  const retains =
    policy.retainsRolloutStates() &&
    config.rollout.retainStates !== false &&
    (config.rollout.servers?.length ?? 0) === 0 &&
    (config.rollout.spawn ?? 0) === 0;
  const trainableParameters = policy
    .trainableParameters()
    .reduce((sum, parameter) => sum + parameter.size, 0);
  const estimate = estimateTrainingStepMemory(policy.model.config, {
    microBatchTokens: microBatchRows * length,
    sequenceLength: length,
    // A LoRA policy's in-process rollouts decode a reference twin per row (`rollout.referenceInRollout`).
    rolloutRows: twins ? 2 * rows : rows,
    rolloutLength: length,
    gradientCheckpointing: policy.model.gradientCheckpointing,
    trainableParameters,
    parts: config.model.trainVisionTower === false ? "text" : "all",
    ...(retains ? { retainedStateTokens: rows * length } : {}),
  });
  assertTrainingStepFits(
    tf.getBackend(),
    estimate,
    {
      microBatchTokens: "train.maxTokensPerMicroBatch",
      rollout: "rollout.maxNewTokens",
      retainedStates: "rollout.retainStates",
    },
    policy.model.gradientCheckpointing,
  );
};
