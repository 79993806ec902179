import { syntheticCountingTask } from "@apo-rl/datasets";
import { createObjective } from "@apo-rl/objectives";
import type { QwenVLPolicy } from "@apo-rl/qwen-vl";
import * as tf from "@tensorflow/tfjs-core";
import { inProcessBatchVerifier } from "../../src/BatchVerifier.js";
import { demoCheckpointDirectory } from "../../src/demo/demoAssets.js";
import { demoVerifier } from "../../src/demo/demoVerifier.js";
import { loadQwenPolicy } from "../../src/qwen/loadQwenPolicy.js";
import type { TrainerConfig } from "../../src/TrainerConfig.js";
import { toTrainingExample } from "../../src/TrainingData.js";
import type { TrainingStepServices } from "../../src/trainingStep.js";
import type { RecordingAdamW } from "./recordingAdamW.js";

/** A constant learning rate of 1e-3, no clipping, no decay: the optimizer settings of one test step. */
export const testOptimizerConfig: TrainerConfig["optimizer"] = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  weightDecay: 0,
  eps: 1e-8,
  gradClip: 0,
  warmupSteps: 0,
  schedule: "constant",
  minLrRatio: 0,
};

/**
 * A LoRA policy (rank 4 on q, v, o, up, no dropout) on the demo checkpoint whose adapters are moved
 * away from zero with seeded noise (else the policy equals its reference).
 */
export const movedLoraDemoPolicy = async () => {
  const policy = await loadQwenPolicy(demoCheckpointDirectory(), {
    lora: { rank: 4, alpha: 8, dropout: 0, targetModules: ["q", "v", "o", "up"] },
  });
  for (const [index, variable] of policy.trainableParameters().entries()) {
    const moved = tf.tidy(() =>
      tf.add(variable, tf.mul(tf.randomNormal(variable.shape, 0, 1, "float32", 100 + index), 0.05)),
    );
    variable.assign(moved);
    moved.dispose();
  }
  return policy;
};

/** The two synthetic counting prompts the LoRA demo steps train on. */
export const demoStepExamples = syntheticCountingTask({
  trainSize: 2,
  heldOutSize: 0,
  difficulty: 0.25,
}).train.map(toTrainingExample);

/**
 * What the LoRA demo steps share: APO with a KL to the reference (β 0.05), the demo verifier, groups
 * of 3 responses of up to 6 tokens at temperature 1.2, micro-batches of 8 response tokens;
 * `rollout` adds the setting a test compares.
 */
export const loraDemoStepServices = (
  policy: QwenVLPolicy,
  optimizer: RecordingAdamW,
  rollout: Partial<TrainerConfig["rollout"]>,
): TrainingStepServices => ({
  policy,
  objective: createObjective("apo", { beta: 0.05 }),
  verifier: inProcessBatchVerifier(demoVerifier()),
  optimizer,
  rollout: { groupSize: 3, temperature: 1.2, topP: 1, topK: 0, maxNewTokens: 6, stopStrings: [], ...rollout },
  optimizerConfig: testOptimizerConfig,
  maxTokensPerMicroBatch: 8,
  useReference: true,
});
