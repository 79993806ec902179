/**
 * Tests of the contributed GSPO objective — the worked example of docs/contributing-an-objective.md.
 * The expectation is an independent float64 re-derivation of the formula (no tfjs), differentiated
 * by central finite differences.
 */
import { InvalidInputError } from "@apo-rl/core";
import { initBackend, testBackends } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { createObjective, gspo, gspoMetricNames } from "../../src/index.js";
import { disposeInput, lossAndGradient, lossWithMetrics, randomBatch, toTensors } from "../support/inputs.js";
import { finiteDifferenceGradient, type ReferenceInput } from "../support/reference.js";

/** GSPO in plain float64 JavaScript, straight from the formula. */
const expectedLoss = (
  input: ReferenceInput,
  { clipLow, clipHigh, beta }: { clipLow: number; clipHigh: number; beta: number },
): number => {
  const G = input.groupSize;
  const advantages = input.rewards.map((reward, i) => {
    const group = input.rewards.slice(Math.floor(i / G) * G, Math.floor(i / G) * G + G);
    const mean = group.reduce((a, b) => a + b, 0) / G;
    const std = Math.sqrt(group.reduce((a, b) => a + (b - mean) ** 2, 0) / (G - 1));
    return group.every((value) => value === group[0]) ? 0 : (reward - mean) / (std + 1e-9);
  });
  const perSequence = input.mask.map((row, i) => {
    const tokens = row.reduce((a, b) => a + b, 0);
    const logRatio =
      row.reduce((sum, m, t) => sum + m * (input.logp[i]![t]! - input.logpOld[i]![t]!), 0) / tokens;
    const ratio = Math.exp(logRatio);
    const clipped = Math.min(Math.max(ratio, 1 - clipLow), 1 + clipHigh);
    const policy = -Math.min(ratio * advantages[i]!, clipped * advantages[i]!);
    const kl =
      row.reduce((sum, m, t) => {
        const d = input.logpRef![i]![t]! - input.logp[i]![t]!;
        return sum + m * (Math.exp(d) - d - 1);
      }, 0) / tokens;
    return policy + beta * kl;
  });
  return perSequence.reduce((a, b) => a + b, 0) / perSequence.length;
};

/** Shrink log-ratios so that GSPO's tiny clip range clips some sequences and not others. */
const nearOnPolicy = (input: ReferenceInput, factor: number): ReferenceInput => ({
  ...input,
  logp: input.logp.map((row, i) =>
    row.map((value, t) => input.logpOld[i]![t]! + (value - input.logpOld[i]![t]!) * factor),
  ),
});

const context = { step: 0, totalSteps: 1 };

describe("gspo options and registration", () => {
  it("registers itself under its name and validates its options", () => {
    expect(createObjective("gspo").name).toBe("gspo");
    expect(createObjective("gspo").metricNames).toEqual(gspoMetricNames);
    try {
      gspo({ clipHigh: -1 });
      throw new Error("expected a failure");
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).field).toBe("clipHigh");
    }
  });
});

describe.each(await testBackends())("gspo on %s", (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it.each([
    {
      label: "reference clip range",
      options: {},
      expected: { clipLow: 3e-4, clipHigh: 4e-4, beta: 0 },
      factor: 0.002,
    },
    {
      label: "wide clip and a KL term",
      options: { clipLow: 0.1, clipHigh: 0.1, beta: 0.05 },
      expected: { clipLow: 0.1, clipHigh: 0.1, beta: 0.05 },
      factor: 1,
    },
  ])("$label: value and gradient match the float64 formula", async ({ options, expected, factor }) => {
    const objective = gspo(options);
    for (const seed of [3, 4]) {
      const input = nearOnPolicy(randomBatch(seed, { groups: 3, groupSize: 4, tokens: 5 }), factor);
      const before = tf.memory().numTensors;
      const tensors = toTensors(input);
      const { value, gradient } = await lossAndGradient((x) => objective.loss(x, context), tensors);
      disposeInput(tensors);
      expect(tf.memory().numTensors).toBe(before);
      expect(value).toBeCloseTo(expectedLoss(input, expected), 6);
      const numeric = finiteDifferenceGradient(input.logp, (logp) =>
        expectedLoss({ ...input, logp }, expected),
      );
      gradient.forEach((row, i) => {
        for (const [t, entry] of row.entries()) expect(Math.abs(entry - numeric[i]![t]!)).toBeLessThan(2e-5);
      });
    }
  });

  it("clips whole sequences: the metrics count sequences", async () => {
    const input = nearOnPolicy(randomBatch(5, { groups: 2, groupSize: 4, tokens: 6 }), 0.002);
    const tensors = toTensors(input);
    const { loss, metrics } = await lossWithMetrics(gspo(), tensors, context);
    tf.dispose(loss);
    disposeInput(tensors);
    expect(metrics["clipFraction"]! * 8).toBeCloseTo(Math.round(metrics["clipFraction"]! * 8), 6);
    expect(metrics["ratioMean"]).toBeGreaterThan(0.99);
    expect(metrics["zeroSpreadGroupFraction"]).toBe(0.5);
  });

  it("requires logpRef when beta > 0, naming the field", () => {
    const { logpRef: _unused, ...input } = randomBatch(6, { groups: 1, groupSize: 2, tokens: 3 });
    const tensors = toTensors(input);
    expect(() => gspo({ beta: 0.1 }).loss(tensors, context)).toThrow(/logpRef/);
    disposeInput(tensors);
  });
});
