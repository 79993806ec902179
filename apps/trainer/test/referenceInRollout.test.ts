import { syntheticCountingTask } from "@apo-rl/datasets";
import { createObjective } from "@apo-rl/objectives";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it, vi } from "vitest";
import { inProcessBatchVerifier } from "../src/BatchVerifier.js";
import { demoVerifier } from "../src/demo/demoVerifier.js";
import { runTrainingStep, type StepPhase } from "../src/index.js";
import { toTrainingExample } from "../src/TrainingData.js";
import { testBackends, useBackend } from "./support/backends.js";
import { movedLoraDemoPolicy, testOptimizerConfig } from "./support/demoStep.js";
import { RecordingAdamW, relativeDifference } from "./support/recordingAdamW.js";

const examples = syntheticCountingTask({ trainSize: 2, heldOutSize: 0, difficulty: 0.25 }).train.map(
  toTrainingExample,
);

/**
 * One APO step (KL to the reference) of a LoRA policy on the demo checkpoint, whose adapters are
 * moved away from zero first (else policy = reference), with the reference log-probs scored in
 * the rollout's twin rows or by the separate reference pass.
 */
const step = async (referenceInRollout: boolean) => {
  const policy = await movedLoraDemoPolicy();
  const referenceCalls = vi.fn();
  const logprobs = policy.logprobs;
  policy.logprobs = (batch, options) => {
    if (options?.reference === true) referenceCalls();
    return logprobs(batch, options);
  };
  const optimizer = new RecordingAdamW(policy.trainableParameters(), {
    betas: [0.9, 0.999],
    eps: 1e-8,
    weightDecay: 0,
  });
  const phases: StepPhase[] = [];
  const { record } = await runTrainingStep(
    {
      policy,
      objective: createObjective("apo", { beta: 0.05 }),
      verifier: inProcessBatchVerifier(demoVerifier()),
      optimizer,
      rollout: {
        groupSize: 3,
        temperature: 1.2,
        topP: 1,
        topK: 0,
        maxNewTokens: 6,
        stopStrings: [],
        referenceInRollout,
      },
      optimizerConfig: testOptimizerConfig,
      maxTokensPerMicroBatch: 8,
      useReference: true,
      hooks: { afterPhase: (report) => void phases.push(report.phase) },
    },
    { step: 0, totalSteps: 1, examples, seed: 21, lr: 1e-3 },
  );
  const flat = await optimizer.takeFlatGradients();
  optimizer.dispose();
  policy.dispose();
  policy.model.dispose();
  return { record, flat, referencePasses: referenceCalls.mock.calls.length, phases };
};

describe.each(testBackends)("reference log-probs scored in the rollout (%s)", (backend) => {
  it("give the separate reference pass's step: the same KL, loss and gradient", async () => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const separate = await step(false);
    const twins = await step(true);
    expect(separate.referencePasses).toBeGreaterThan(0);
    expect(twins.referencePasses).toBe(0);
    expect(twins.phases).toContain("reference");
    // The same rollouts (same seed and weights), scored against the same reference.
    expect(twins.record.generatedTokens).toBe(separate.record.generatedTokens);
    expect(twins.record.reward).toBe(separate.record.reward);
    expect(separate.record.kl!).toBeGreaterThan(1e-4);
    expect(twins.record.kl!).toBeCloseTo(separate.record.kl!, 6);
    expect(twins.record.loss!).toBeCloseTo(separate.record.loss!, 7);
    const { relative, squaredNorm } = relativeDifference(twins.flat, separate.flat);
    expect(squaredNorm).toBeGreaterThan(0);
    // Float rounding only: measured 8.5e-6 (wasm) and 1.9e-6 (cpu).
    expect(relative).toBeLessThanOrEqual(1e-4);
    expect(tf.memory().numTensors).toBe(before);
  }, 240_000);
});
