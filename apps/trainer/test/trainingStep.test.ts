import { createObjective } from "@apo-rl/objectives";
import { counting } from "@apo-rl/rewards";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { AdamW } from "../src/AdamW.js";
import { inProcessBatchVerifier } from "../src/BatchVerifier.js";
import { runTrainingStep } from "../src/trainingStep.js";
import { testBackends, useBackend } from "./support/backends.js";
import { examples, makePolicy, taskConfig } from "./support/sayNumberTask.js";

const step = async (microBatchSize: number) => {
  const policy = makePolicy(21);
  const optimizer = new AdamW(policy.trainableParameters(), {
    betas: [0.9, 0.99],
    eps: 1e-8,
    weightDecay: 0,
  });
  const config = taskConfig("unused");
  const { record, groups } = await runTrainingStep(
    {
      policy,
      objective: createObjective("apo", {}),
      verifier: inProcessBatchVerifier(counting()),
      optimizer,
      // One token per response: every micro-batch has the same number of tokens.
      rollout: { ...config.rollout, maxNewTokens: 1 },
      optimizerConfig: { ...config.optimizer, gradClip: 0 },
      microBatchSize,
      useReference: true,
    },
    { step: 0, totalSteps: 1, examples, seed: 99, lr: 0.01 },
  );
  const weights = Array.from(policy.table.dataSync());
  optimizer.dispose();
  policy.dispose();
  return { record, groups, weights };
};

for (const backend of testBackends) {
  describe(`training step on ${backend}`, () => {
    it("gradient accumulation over micro-batches equals one big batch when token counts are equal", async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const whole = await step(4);
      const accumulated = await step(1);
      expect(tf.memory().numTensors).toBe(before);
      // Same rollouts and rewards (same seed), with a learning signal in at least one group.
      expect(accumulated.groups.map((group) => group.rollouts.map((sample) => sample.rollout.text))).toEqual(
        whole.groups.map((group) => group.rollouts.map((sample) => sample.rollout.text)),
      );
      expect(whole.record.zeroSpreadFraction).toBeLessThan(1);
      expect(accumulated.record.loss!).toBeCloseTo(whole.record.loss!, 6);
      // The 1/M weighting: a sum instead of a mean would make this norm 4× larger.
      expect(whole.record.gradNorm!).toBeGreaterThan(0);
      expect(accumulated.record.gradNorm! / whole.record.gradNorm!).toBeCloseTo(1, 4);
      accumulated.weights.forEach((value, index) => {
        expect(value).toBeCloseTo(whole.weights[index]!, 5);
      });
      expect(whole.record).toMatchObject({ samples: 32, skipped: false, generatedTokens: 32 });
    });
  });
}
