import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { runTrainingStep } from "../src/index.js";
import { testBackends, useBackend } from "./support/backends.js";
import { demoStepExamples, loraDemoStepServices, movedLoraDemoPolicy } from "./support/demoStep.js";
import { recordingOptimizer, relativeDifference } from "./support/recordingAdamW.js";

const flatValues = async (tensors: ReadonlyArray<tf.Tensor>) =>
  (await Promise.all(tensors.map(async (tensor) => Array.from(await tensor.data())))).flat();

/**
 * One APO step of a LoRA policy on the demo checkpoint (adapters moved away from zero first),
 * micro-batches of 8 response tokens (groups split across them), two PPO epochs — the loss pass
 * starting from the rollout's retained states or running its own forward.
 */
const step = async (retainStates: boolean) => {
  const policy = await movedLoraDemoPolicy();
  // Which decoder forwards each update's loss pass runs: whole ones, or from the retained states.
  const model = policy.model;
  let update = -1;
  const forwards: Array<{ update: number; fromStates: boolean }> = [];
  const forward = model.forward.bind(model);
  const forwardSharedPrompts = model.forwardSharedPrompts.bind(model);
  model.forward = (input, options) => {
    if (update >= 0) forwards.push({ update, fromStates: false });
    return forward(input, options);
  };
  model.forwardSharedPrompts = (input, options) => {
    if (update >= 0) forwards.push({ update, fromStates: options?.layerInputs !== undefined });
    return forwardSharedPrompts(input, options);
  };
  const initial = await flatValues(policy.trainableParameters());
  const optimizer = recordingOptimizer(policy.trainableParameters());
  const retainedAtLoss: number[] = [];
  const { record } = await runTrainingStep(
    {
      ...loraDemoStepServices(policy, optimizer, { retainStates }),
      ppoEpochs: 2,
      hooks: {
        beforePhase: (phase) => {
          if (phase !== "lossBackward") return;
          retainedAtLoss.push(policy.retainedRolloutBytes());
          update += 1;
        },
      },
    },
    { step: 0, totalSteps: 1, examples: demoStepExamples, seed: 21, lr: 1e-3 },
  );
  const gradient = await optimizer.takeFlatGradients();
  const final = await flatValues(policy.trainableParameters());
  const moved = final.map((value, index) => value - initial[index]!);
  optimizer.dispose();
  policy.dispose();
  policy.model.dispose();
  return { record, gradient, moved, retainedAtLoss, forwards };
};

describe.each(testBackends)("the loss pass from the rollout's retained states (%s)", (backend) => {
  it("gives the step of a pass with its own forward: the same loss, gradient and updates", async () => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const own = await step(false);
    const retained = await step(true);
    expect(own.retainedAtLoss.every((bytes) => bytes === 0)).toBe(true);
    // Kept for the first update only: the second epoch's weights differ, so its pass runs a forward.
    expect(retained.retainedAtLoss[0]).toBeGreaterThan(0);
    expect(retained.retainedAtLoss.slice(1)).toEqual([0]);
    // The first update's micro-batches run from the states only; the second's run whole forwards.
    const ofUpdate = (run: typeof own, index: number) =>
      run.forwards.filter((entry) => entry.update === index);
    expect(ofUpdate(retained, 0).length).toBeGreaterThan(1);
    expect(ofUpdate(retained, 0).every((entry) => entry.fromStates)).toBe(true);
    expect(ofUpdate(retained, 1).length).toBeGreaterThan(0);
    expect(ofUpdate(retained, 1).some((entry) => entry.fromStates)).toBe(false);
    expect(own.forwards.some((entry) => entry.fromStates)).toBe(false);
    expect(ofUpdate(own, 0).length).toBeGreaterThan(0);
    expect(retained.record.generatedTokens).toBe(own.record.generatedTokens);
    expect(retained.record.reward).toBe(own.record.reward);
    expect(retained.record.kl!).toBeCloseTo(own.record.kl!, 6);
    expect(retained.record.loss!).toBeCloseTo(own.record.loss!, 6);
    const gradient = relativeDifference(retained.gradient, own.gradient);
    expect(gradient.squaredNorm).toBeGreaterThan(0);
    expect(gradient.relative).toBeLessThanOrEqual(1e-4);
    // Both epochs' AdamW updates (the second from a whole forward in both runs).
    const updates = relativeDifference(retained.moved, own.moved);
    expect(updates.squaredNorm).toBeGreaterThan(0);
    expect(updates.relative).toBeLessThanOrEqual(1e-3);
    expect(tf.memory().numTensors).toBe(before);
  }, 240_000);
});
