import { InvalidInputError } from "@apo-rl/core";
import { initBackend, testBackends } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { apo, dapo, grpo } from "../src/index.js";
import { disposeInput, lossWithMetrics, toTensors } from "./support/inputs.js";
import type { ReferenceInput } from "./support/reference.js";

/**
 * One group of G = 2 (a correct and an incorrect response), two tokens each.
 * rewards [1, 0]: mean 0.5, unbiased std √0.5 → A = ±0.5/√0.5 = ±0.7071068.
 * log-ratios [[0.1, 0], [0, 0.5]] → ratios [[1.10517092, 1], [1, 1.64872127]].
 * Token losses: −1.10517092·A = −0.78147385, −A = −0.7071068, +A = 0.7071068, and for the last
 * token (A < 0) −min(1.64872127·(−A), 1.2·(−A)) = 1.16582199.
 * token-mean: (−0.78147385 − 0.7071068 + 0.7071068 + 1.16582199)/4 = 0.09608703.
 * KL (k3, d = logp_ref − logp = [[−0.3, 0], [0, −0.5]]): k3(−0.3) = 0.04081822, k3(−0.5) = 0.10653066;
 * per-sequence means 0.02040911 and 0.05326533; β·mean = 1e-3 · 0.03683722 = 3.683722e-5.
 */
const example: ReferenceInput = {
  logpOld: [
    [-1, -1],
    [-1, -1],
  ],
  logp: [
    [-0.9, -1],
    [-1, -0.5],
  ],
  logpRef: [
    [-1.2, -1],
    [-1, -1],
  ],
  mask: [
    [1, 1],
    [1, 1],
  ],
  rewards: [1, 0],
  correct: [true, false],
  groupSize: 2,
};
const context = { step: 0, totalSteps: 10 };

const run = async (objective: ReturnType<typeof grpo>, input: ReferenceInput) => {
  const tensors = toTensors(input);
  const { loss, metrics } = await lossWithMetrics(objective, tensors, context);
  const value = (await loss.data())[0]!;
  loss.dispose();
  disposeInput(tensors);
  return { value, metrics };
};

describe.each(await testBackends())("worked examples on %s", (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it("grpo: policy loss, KL term and metrics", async () => {
    const before = tf.memory().numTensors;
    const { value, metrics } = await run(grpo(), example);
    expect(value).toBeCloseTo(0.09612387, 6);
    expect(metrics["policyLoss"]).toBeCloseTo(0.09608703, 6);
    expect(metrics["klLoss"]).toBeCloseTo(3.683722e-5, 9);
    expect(metrics["kl"]).toBeCloseTo(0.03683722, 6);
    expect(metrics["beta"]).toBe(1e-3);
    // The wrong answer's ratio 1.65 is outside the range, but its unclipped term is the minimum.
    expect(metrics["clipFraction"]).toBe(0);
    expect(metrics["advantagePositiveMean"]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(metrics["advantageNegativeMean"]).toBeCloseTo(-Math.SQRT1_2, 6);
    expect(metrics["zeroSpreadGroupFraction"]).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("apo: DADS weight 1 − exp(−e/2) on the correct answer, STCR on the long wrong one", async () => {
    // d = 0.5 → w = 1 − exp(−e·0.5) = 0.74311863; KL term 1e-3·(0.74311863·0.02040911 + 0.05326533)/2
    // = 3.421586e-5. lengths [100, 620] with base 1.001: μ = 100, s = 2 − 1.001^(−520) = 1.40532496,
    // so the wrong answer's A = −0.7071068·1.40532496 = −0.99371477 and its token losses are
    // 0.99371477 and 1.64872127·0.99371477 = 1.63835877 (unclipped branch).
    // Policy loss (−0.78147385 − 0.7071068 + 0.99371477 + 1.63835877)/4 = 0.28587323.
    const input = { ...example, lengths: [100, 620] };
    const { value, metrics } = await run(apo({ stcrBase: 1.001 }), input);
    expect(metrics["policyLoss"]).toBeCloseTo(0.28587323, 6);
    expect(metrics["klLoss"]).toBeCloseTo(3.421586e-5, 9);
    expect(value).toBeCloseTo(0.28590745, 6);
    expect(metrics["dadsWeightPositiveMean"]).toBeCloseTo(0.74311863, 6);
    expect(metrics["stcrScalePenalisedMean"]).toBeCloseTo(1.40532496, 6);
    expect(metrics["advantageNegativeMean"]).toBeCloseTo(-0.99371477, 6);
  });

  it("dapo: clip-higher lets the positive ratio reach 1.28 and drops the KL term", async () => {
    // Positive sample log-ratio 0.3: ratio 1.34985881 clips at 1.28 under dapo (1.2 under grpo).
    const input = {
      ...example,
      logp: [
        [-0.7, -1],
        [-1, -1],
      ],
    };
    const a = Math.SQRT1_2;
    const clipHigher = await run(dapo(), input);
    expect(clipHigher.value).toBeCloseTo((-1.28 * a - a + a + a) / 4, 6);
    expect(clipHigher.metrics["clipFraction"]).toBeCloseTo(0.25, 6);
    expect(clipHigher.metrics["klLoss"]).toBe(0);
    expect((await run(grpo({ beta: 0 }), input)).value).toBeCloseTo((-1.2 * a - a + a + a) / 4, 6);
  });

  it("dual clip caps a negative-advantage token at −c·A", async () => {
    // Second token of the wrong answer has log-ratio ln 4: ratio 4 > c = 3, so pg = 3·A = 2.12132034.
    const input = {
      ...example,
      logp: [
        [-1, -1],
        [-1, -1 + Math.log(4)],
      ],
    };
    const a = Math.SQRT1_2;
    expect((await run(grpo({ beta: 0, dualClip: 3 }), input)).value).toBeCloseTo((-a - a + a + 3 * a) / 4, 6);
    expect((await run(grpo({ beta: 0 }), input)).value).toBeCloseTo((-a - a + a + 4 * a) / 4, 6);
  });

  it("accepts a boolean or integer mask", async () => {
    const expected = (await run(apo(), example)).value;
    for (const dtype of ["bool", "int32"] as const) {
      const tensors = toTensors(example);
      const mask = tf.cast(tensors.mask, dtype);
      // On a GPU backend the cast mask is on the device: `loss` then takes the lengths as given.
      const { loss } = apo().loss({ ...tensors, mask, lengths: [2, 2] }, context);
      expect((await loss.data())[0]).toBe(expected);
      tf.dispose([loss, mask]);
      disposeInput(tensors);
    }
  });

  it("a mask already on the device: the totals come from lengths, or the error names lengths", async () => {
    const ragged: ReferenceInput = {
      ...example,
      mask: [
        [1, 1],
        [1, 0],
      ],
    };
    for (const objective of [grpo(), grpo({ aggregation: "seq-mean-token-mean" }), apo()]) {
      const expected = (await run(objective, ragged)).value;
      const tensors = toTensors(ragged);
      // A kernel uses the mask: on a GPU backend it is uploaded and its host copy dropped.
      tf.sum(tensors.mask).dispose();
      const { loss } = objective.loss({ ...tensors, lengths: [2, 1] }, context);
      expect((await loss.data())[0]).toBeCloseTo(expected, 7);
      loss.dispose();
      if (backend === "webgpu") {
        const error = (() => {
          try {
            objective.loss(tensors, context);
          } catch (caught) {
            return caught;
          }
          return undefined;
        })() as InvalidInputError;
        expect(error).toBeInstanceOf(InvalidInputError);
        expect(error.field).toBe("lengths");
        expect(error.message).toMatch(/GPU/);
      } else {
        const output = await lossWithMetrics(objective, tensors, context);
        expect((await output.loss.data())[0]).toBe(expected);
        output.loss.dispose();
      }
      disposeInput(tensors);
    }
  });

  it("rejects inputs that do not fit, naming the field", () => {
    const tensors = toTensors(example);
    const check = (input: Parameters<ReturnType<typeof grpo>["loss"]>[0], field: string) => {
      try {
        grpo().loss(input, context);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).field).toBe(field);
        return;
      }
      throw new Error(`expected an InvalidInputError at ${field}`);
    };
    const { logpRef: _withoutReference, ...noReference } = tensors;
    const wide = tf.zeros([2, 3]);
    check(noReference, "logpRef");
    check({ ...tensors, mask: wide }, "mask");
    check({ ...tensors, rewards: [1] }, "rewards");
    check({ ...tensors, groupSize: 3 }, "groupSize");
    check({ ...tensors, rewards: [1, Number.NaN] }, "rewards[1]");
    wide.dispose();
    disposeInput(tensors);
  });
});
