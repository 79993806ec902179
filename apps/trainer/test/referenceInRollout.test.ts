import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it, vi } from "vitest";
import { runTrainingStep, type StepPhase } from "../src/index.js";
import { testBackends, useBackend } from "./support/backends.js";
import { demoStepExamples, loraDemoStepServices, movedLoraDemoPolicy } from "./support/demoStep.js";
import { recordingOptimizer, relativeDifference } from "./support/recordingAdamW.js";

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
  const optimizer = recordingOptimizer(policy.trainableParameters());
  const phases: StepPhase[] = [];
  const { record } = await runTrainingStep(
    {
      ...loraDemoStepServices(policy, optimizer, { referenceInRollout }),
      hooks: { afterPhase: (report) => void phases.push(report.phase) },
    },
    { step: 0, totalSteps: 1, examples: demoStepExamples, seed: 21, lr: 1e-3 },
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
