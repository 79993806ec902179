import type { ObjectiveV2 } from "@apo-rl/core";
import { initBackend, testBackends } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { createObjective, grpo, stepTotals, UnknownComponentError } from "../src/index.js";
import { disposeInput, lossAndGradient, randomBatch, toTensors } from "./support/inputs.js";

const context = { step: 3, totalSteps: 10 };

describe.each(await testBackends())("composition on %s", (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it("grpo is the composition of the grpo estimator and the ppoClip loss, bit for bit", async () => {
    const input = randomBatch(11, { groups: 3, groupSize: 4, tokens: 5 });
    // Fresh tensors for every loss: on a GPU backend `loss` reads the mask only before it is uploaded.
    const run = async (objective: ObjectiveV2<tf.Tensor>) => {
      const tensors = toTensors(input);
      try {
        return await lossAndGradient((x) => objective.loss(x, context), tensors);
      } finally {
        disposeInput(tensors);
      }
    };
    for (const options of [{}, { advantageScale: "batch" as const, dualClip: 3, clipHigh: 0.28 }]) {
      const named = grpo(options);
      const composed = grpo({
        ...options,
        advantageEstimator: {
          name: "grpo",
          options: { scale: options.advantageScale ?? "group", eps: 1e-9 },
        },
        policyLoss: {
          name: "ppoClip",
          options: {
            clipLow: 0.2,
            clipHigh: options.clipHigh ?? 0.2,
            ...("dualClip" in options ? { dualClip: 3 } : {}),
          },
        },
      });
      const a = await run(named);
      const b = await run(composed);
      expect(b.value).toBe(a.value);
      expect(b.gradient).toEqual(a.gradient);
    }
  });

  it("an unknown component names what is registered", () => {
    const error = (() => {
      try {
        createObjective("grpo", { policyLoss: { name: "nope" } });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })() as UnknownComponentError;
    expect(error).toBeInstanceOf(UnknownComponentError);
    expect(error.known).toContain("ppoClip");
    expect(error.kind).toBe("policy loss");
    expect(error.message).toContain("registered policy losses are");
  });

  it("entropy bonus and top-entropy masking match a hand computation", async () => {
    // One group of 2, 3 tokens each (the second row has 2). Ratios 1 (logp = logpOld), so each
    // token's policy loss is −A: rewards [1, 0] → A = ±1/√0.5·0.5 = ±0.70710678.
    const logp = tf.tensor2d([
      [-1, -2, -0.5],
      [-1, -1, 0],
    ]);
    const mask = tf.tensor2d([
      [1, 1, 1],
      [1, 1, 0],
    ]);
    const entropy = tf.tensor2d([
      [0.1, 0.9, 0.5],
      [0.7, 0.3, 5],
    ]);
    const old = logp.clone();
    const objective = grpo({ beta: 0, entropyCoefficient: 0.01, topEntropyFraction: 0.4 });
    const lengths = [3, 2];
    const samples = objective.advantages(
      { rewards: [1, 0], correct: [true, false], lengths, groupSize: 2 },
      context,
    );
    const output = objective.microBatchLoss(
      { logp, logpOld: old, mask, entropy, samples: samples.perSample, totals: stepTotals(lengths) },
      context,
    );
    const a = Math.SQRT1_2;
    // Top 40 % of 5 tokens → 2 tokens: entropies 0.9 (row 0, A > 0) and 0.7 (row 1, A < 0).
    const policy = (-a + a) / 5;
    const meanEntropy = (0.1 + 0.9 + 0.5 + 0.7 + 0.3) / 5;
    const read = async (tensor: tf.Tensor) => (await tensor.data())[0]!;
    expect(await read(output.metrics["policyLoss"]!)).toBeCloseTo(policy, 6);
    expect(await read(output.metrics["entropy"]!)).toBeCloseTo(meanEntropy, 6);
    expect(await read(output.metrics["entropyLoss"]!)).toBeCloseTo(-0.01 * meanEntropy, 7);
    expect(await read(output.loss)).toBeCloseTo(policy - 0.01 * meanEntropy, 7);
    // Only the kept tokens get policy gradient: d loss / d logp = −A/5 there, 0 elsewhere.
    const gradient = tf.grad(
      (x: tf.Tensor) =>
        objective.microBatchLoss(
          { logp: x, logpOld: old, mask, entropy, samples: samples.perSample, totals: stepTotals(lengths) },
          context,
        ).loss as tf.Scalar,
    )(logp);
    const values = Array.from(await gradient.data());
    expect(values[0]).toBeCloseTo(0, 7);
    expect(values[1]).toBeCloseTo(-a / 5, 6);
    expect(values[2]).toBeCloseTo(0, 7);
    expect(values[3]).toBeCloseTo(a / 5, 6);
    expect(values[4]).toBeCloseTo(0, 7);
    tf.dispose([logp, old, mask, entropy, gradient, output.loss, ...Object.values(output.metrics)]);
  });

  it("needs entropy when the entropy options are on, naming the field", () => {
    const input = toTensors(randomBatch(2, { groups: 1, groupSize: 2, tokens: 3 }));
    expect(() => grpo({ entropyCoefficient: 0.1 }).loss(input, context)).toThrow(/entropy/);
    disposeInput(input);
  });
});
