import type { GenerationRequest, PolicyBatch, Rollout } from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createLoraAdapter,
  createQwenVLPolicy,
  type LoraAdapter,
  loadQwen25VL,
  type Qwen25VLModel,
  type QwenVLPolicy,
} from "../../src/index.js";
import { asyncTestBackendNames, tolerance, useBackend } from "../model/support/backend.js";
import { fixtureDirectory } from "../model/support/fixtures.js";
import { imageRequest, loadFixtureProcessor, textRequest } from "./support/fixturePolicy.js";

const sampling = { n: 3, temperature: 0.9, maxNewTokens: 6, seed: 5 } as const;

/** Σ_t w_t·logp_t with a different weight per position, so no gradient is symmetric between rows. */
const weightedSum = (logp: tf.Tensor, mask: tf.Tensor): tf.Scalar =>
  tf.tidy(() => {
    const [rows, width] = logp.shape as [number, number];
    const weights = tf.tensor2d(
      Array.from({ length: rows * width }, (_, i) => 0.3 + 0.7 * Math.sin(1 + i * 0.37) ** 2),
      [rows, width],
    );
    return tf.sum(tf.mul(tf.mul(logp, mask), weights)) as tf.Scalar;
  });

const flat = async (tensor: tf.Tensor) => Array.from(await tensor.data());

/** The loss, its log-probs and the flat gradient of every trainable variable. */
const lossAndGradient = async (policy: QwenVLPolicy, batch: PolicyBatch) => {
  const variables = policy.trainableParameters();
  let logp: tf.Tensor | undefined;
  let mask: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const scored = policy.logprobs(batch);
    logp = tf.keep(scored.logp);
    mask = tf.keep(scored.mask);
    if (scored.entropy !== undefined) scored.entropy.dispose();
    return weightedSum(scored.logp, scored.mask);
  }, [...variables]);
  const gradient = (await Promise.all(variables.map((variable) => flat(grads[variable.name]!)))).flat();
  const result = {
    loss: (await value.data())[0]!,
    logp: (await logp!.array()) as number[][],
    mask: (await mask!.array()) as number[][],
    gradient,
  };
  value.dispose();
  logp!.dispose();
  mask!.dispose();
  for (const tensor of Object.values(grads)) tensor.dispose();
  return result;
};

const relativeDifference = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  let difference = 0;
  let norm = 0;
  a.forEach((value, index) => {
    difference += (value - b[index]!) ** 2;
    norm += b[index]! ** 2;
  });
  return Math.sqrt(difference / norm);
};

/** Matrix products run by `run` (what a decoder forward is made of). */
const productsIn = async (run: () => void): Promise<number> => {
  const info = await tf.profile(() => {
    run();
  });
  return info.kernels.filter((kernel) => /MatMul/.test(kernel.name)).length;
};

describe.each(asyncTestBackendNames)(
  "a LoRA policy's training pass from its rollout's states (%s)",
  (backend) => {
    let model: Qwen25VLModel;
    let lora: LoraAdapter;
    let policy: QwenVLPolicy;
    let available = false;
    let before = 0;
    const requests: GenerationRequest[] = [imageRequest(), textRequest()];

    beforeAll(async () => {
      available = await useBackend(backend);
      if (!available) return;
      before = tf.memory().numTensors;
      model = await loadQwen25VL(fixtureDirectory("image"));
      lora = createLoraAdapter(model, {
        rank: 4,
        alpha: 8,
        targetModules: ["q_proj", "v_proj", "down_proj"],
      });
      // B starts at zero: move it so the adapter changes every layer's states.
      for (const variable of lora.variables()) {
        const moved = tf.tidy(() =>
          tf.add(variable, tf.mul(tf.randomNormal(variable.shape, 0, 1, "float32", 7), 0.3)),
        );
        variable.assign(moved);
        moved.dispose();
      }
      policy = createQwenVLPolicy({ model, processor: await loadFixtureProcessor(), lora });
    });

    afterAll(() => {
      if (!available) return;
      policy.dispose();
      lora.dispose();
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });

    const sample = async (retain: boolean): Promise<PolicyBatch> => {
      const rollouts = await policy.generate(requests, { ...sampling, retainForTraining: retain });
      return { requests, rollouts, temperature: sampling.temperature };
    };

    /** One gradient of the weighted log-probs (what a training pass runs), results released. */
    const backward = (batch: PolicyBatch): void => {
      const { value, grads } = tf.variableGrads(() => {
        const scored = policy.logprobs(batch);
        return weightedSum(scored.logp, scored.mask);
      }, policy.trainableParameters() as tf.Variable[]);
      value.dispose();
      tf.dispose(grads);
    };

    it("gives the loss and gradient of the full forward, without running it", async ({ skip }) => {
      if (!available) skip();
      const batch = await sample(true);
      const bytes = policy.retainedRolloutBytes();
      // (prompt + response − 1) tokens × (layers + 1) states × hidden × 4 bytes.
      const { numHiddenLayers, hiddenSize } = model.config.text;
      const promptTokens = requests
        .map((request) => policy.processor.encode(request.messages, request.images).inputIds.length)
        .reduce((sum, length) => sum + length, 0);
      const responseTokens = batch.rollouts.reduce((sum, rollout) => sum + rollout.tokenIds.length - 1, 0);
      expect(bytes).toBe((promptTokens + responseTokens) * (numHiddenLayers + 1) * hiddenSize * 4);

      const fromStates = await lossAndGradient(policy, batch);
      const forwardLess = await productsIn(() =>
        tf.tidy(() => {
          policy.logprobs(batch);
        }),
      );
      const tapedForwardLess = await productsIn(() => backward(batch));
      expect(policy.retainedRolloutBytes()).toBe(bytes);

      policy.releaseRetainedRollout();
      expect(policy.retainedRolloutBytes()).toBe(0);
      const full = await lossAndGradient(policy, batch);
      const withForward = await productsIn(() =>
        tf.tidy(() => {
          policy.logprobs(batch);
        }),
      );
      const tapedWithForward = await productsIn(() => backward(batch));

      expect(Math.abs(fromStates.loss - full.loss)).toBeLessThan(
        tolerance(backend, 1e-4) * Math.abs(full.loss),
      );
      expect(relativeDifference(fromStates.gradient, full.gradient)).toBeLessThan(tolerance(backend, 1e-4));
      expect(fromStates.mask).toEqual(full.mask);
      // The log-probs are the sampling ones (the same weights): ratio 1 on-policy.
      batch.rollouts.forEach((rollout, row) => {
        rollout.logprobs.forEach((logprob, t) => {
          expect(Math.abs(fromStates.logp[row]![t]! - logprob)).toBeLessThan(tolerance(backend, 1e-4));
        });
      });
      // A forward of the decoder is 7 products per layer plus the adapter's: skipped, with or without a tape.
      const forwardProducts = withForward - forwardLess;
      expect(forwardProducts).toBeGreaterThanOrEqual(7 * model.config.text.numHiddenLayers);
      expect(tapedWithForward - tapedForwardLess).toBe(forwardProducts);
    });

    it("drops the states once the weights change, and ignores rollouts it did not sample", async ({
      skip,
    }) => {
      if (!available) skip();
      const batch = await sample(true);
      const copied: PolicyBatch = {
        ...batch,
        rollouts: batch.rollouts.map((rollout): Rollout => ({ ...rollout })),
      };
      const fromCopies = await productsIn(() =>
        tf.tidy(() => {
          policy.logprobs(copied);
        }),
      );
      const fromStates = await productsIn(() =>
        tf.tidy(() => {
          policy.logprobs(batch);
        }),
      );
      expect(fromCopies).toBeGreaterThan(fromStates);
      expect(policy.retainedRolloutBytes()).toBeGreaterThan(0);

      const variable = lora.variables()[0]!;
      const changed = tf.tidy(() => tf.add(variable, 0.05));
      variable.assign(changed);
      changed.dispose();
      const afterUpdate = await lossAndGradient(policy, batch);
      expect(policy.retainedRolloutBytes()).toBe(0);
      const again = await lossAndGradient(policy, batch);
      expect(afterUpdate.loss).toBe(again.loss);
      expect(afterUpdate.gradient).toEqual(again.gradient);
    });

    it("keeps nothing without the hint, or when sampling again", async ({ skip }) => {
      if (!available) skip();
      expect(policy.retainsRolloutStates()).toBe(true);
      model.gradientCheckpointing = false;
      expect(policy.retainsRolloutStates()).toBe(false);
      await sample(true);
      expect(policy.retainedRolloutBytes()).toBe(0);
      model.gradientCheckpointing = true;
      await sample(true);
      expect(policy.retainedRolloutBytes()).toBeGreaterThan(0);
      await sample(false);
      expect(policy.retainedRolloutBytes()).toBe(0);
    });
  },
);
