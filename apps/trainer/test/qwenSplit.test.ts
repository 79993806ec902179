import { syntheticCountingTask } from "@apo-rl/datasets";
import { createObjective } from "@apo-rl/objectives";
import { describe, expect, it } from "vitest";
import { inProcessBatchVerifier } from "../src/BatchVerifier.js";
import { demoCheckpointDirectory } from "../src/demo/demoAssets.js";
import { demoVerifier } from "../src/demo/demoVerifier.js";
import { loadQwenPolicy } from "../src/qwen/loadQwenPolicy.js";
import { toTrainingExample } from "../src/TrainingData.js";
import { runTrainingStep } from "../src/trainingStep.js";
import { useBackend } from "./support/backends.js";
import { testOptimizerConfig } from "./support/demoStep.js";
import { recordingOptimizer, relativeDifference } from "./support/recordingAdamW.js";

const examples = syntheticCountingTask({ trainSize: 3, heldOutSize: 0, difficulty: 0.25 }).train.map(
  toTrainingExample,
);

/**
 * The split invariance of a real transformer step (the demo's Qwen2.5-VL architecture, image
 * prompts, attention over padded rows, the reference pass per micro-batch): one row per
 * micro-batch vs every row at once, with activation checkpointing (`model.gradientCheckpointing`)
 * on or off.
 */
const step = async (
  objective: ReturnType<typeof createObjective>,
  maxTokensPerMicroBatch: number | undefined,
  gradientCheckpointing: boolean,
) => {
  const policy = await loadQwenPolicy(demoCheckpointDirectory(), { reference: true });
  policy.model.gradientCheckpointing = gradientCheckpointing;
  const optimizer = recordingOptimizer(policy.trainableParameters());
  const { record } = await runTrainingStep(
    {
      policy,
      objective,
      verifier: inProcessBatchVerifier(demoVerifier()),
      optimizer,
      rollout: { groupSize: 4, temperature: 1.5, topP: 1, topK: 0, maxNewTokens: 5, stopStrings: [] },
      optimizerConfig: testOptimizerConfig,
      maxTokensPerMicroBatch,
      useReference: true,
    },
    { step: 0, totalSteps: 1, examples, seed: 12, lr: 1e-3 },
  );
  const flat = await optimizer.takeFlatGradients();
  optimizer.dispose();
  policy.dispose();
  policy.model.dispose();
  return { record, flat };
};

describe("a Qwen2.5-VL training step does not depend on the micro-batch split", () => {
  it.each([
    ["token-mean (apo)", "apo", { beta: 0.01 }],
    ["seq-mean-token-sum-norm (drGrpo)", "drGrpo", { beta: 0.01 }],
    ["advantageScale batch (grpo)", "grpo", { advantageScale: "batch", beta: 0.01 }],
  ] as const)(
    "%s",
    async (_label, name, options) => {
      await useBackend("cpu");
      // The demo's SFT checkpoint: its sampled answers differ in reward, so the gradient is not zero.
      // Everything at once without checkpointing, against one row per micro-batch with and without it.
      const whole = await step(createObjective(name, options), undefined, false);
      expect(whole.record.zeroSpreadGroupFraction, JSON.stringify(whole.record)).toBeLessThan(1);
      for (const checkpointing of [true, false]) {
        const split = await step(createObjective(name, options), 1, checkpointing);
        const { relative, squaredNorm } = relativeDifference(split.flat, whole.flat);
        expect(squaredNorm).toBeGreaterThan(0);
        expect(relative, `checkpointing ${checkpointing}`).toBeLessThanOrEqual(1e-5);
        expect(split.record.loss!).toBeCloseTo(whole.record.loss!, 6);
      }
    },
    240_000,
  );
});
