import { InvalidInputError } from "@apo-rl/core";
import { initBackend, testBackends } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  apo,
  createObjective,
  grpo,
  klShareOfLoss,
  mechanismTelemetry,
  mechanismTelemetryNames,
  objectiveMetricNames,
} from "../src/index.js";
import { disposeInput, lossWithMetrics, toTensors } from "./support/inputs.js";
import type { ReferenceInput } from "./support/reference.js";

/**
 * Three groups of G = 4, worked by hand (rewards = accuracy):
 * - group 0: correct [T, T, F, F], lengths [10, 14, 20, 8]: μ = 12, the wrong answer of 20 tokens
 *   is 8 longer → s = 2 − 1.001^(−8) = 1.00796412 (base 1.001); the one of 8 tokens is not
 *   penalised. d = 0.5 → the two correct answers (A > 0) get w = 1 − exp(−e·0.5) = 0.74311863.
 * - group 1: all wrong, lengths [30, 30, 30, 30]: no correct length to compare with, s = 1; d = 1;
 *   rewards all 0 → A = 0, no positive sample.
 * - group 2: correct [T, T, T, F], lengths all 5: the wrong answer is not longer than μ = 5;
 *   d = 0.25 → the three correct answers get w = 1 − exp(−e·0.75) = 0.86980362.
 * Incorrect samples: 2 + 4 + 1 = 7, of which 1 is penalised → 1/7.
 * DADS weights over the 5 positive samples: mean (2·0.74311863 + 3·0.86980362)/5 = 0.81912963,
 * min 0.74311863, max 0.86980362. Mean difficulty (0.5 + 1 + 0.25)/3 = 0.58333333.
 */
const correct = [true, true, false, false, false, false, false, false, true, true, true, false];
const lengths = [10, 14, 20, 8, 30, 30, 30, 30, 5, 5, 5, 5];
const rewards = correct.map((value) => (value ? 1 : 0));
const groupSize = 4;

const W_HALF = 0.7431186346865297;
const W_QUARTER = 0.8698036223917958;
const S_EIGHT = 1.0079641196707894;

describe("mechanismTelemetry (hand-worked)", () => {
  it("reports the STCR-penalised fraction of incorrect samples, their scale, DADS weights and difficulty", () => {
    const stcrScales = lengths.map((_, sample) => (sample === 2 ? S_EIGHT : 1));
    const advantages = [1, 1, -1, -1, 0, 0, 0, 0, 0.5, 0.5, 0.5, -1.5];
    const klWeights = advantages.map((advantage, sample) =>
      advantage > 0 ? (sample < 4 ? W_HALF : W_QUARTER) : 1,
    );
    const telemetry = mechanismTelemetry({ correct, advantages, klWeights, stcrScales, groupSize });
    expect(telemetry["stcrPenalisedFraction"]).toBeCloseTo(1 / 7, 12);
    expect(telemetry["stcrMeanScale"]).toBeCloseTo(S_EIGHT, 12);
    expect(telemetry["dadsWeightMean"]).toBeCloseTo(0.8191296273096892, 12);
    expect(telemetry["dadsWeightMin"]).toBeCloseTo(W_HALF, 12);
    expect(telemetry["dadsWeightMax"]).toBeCloseTo(W_QUARTER, 12);
    expect(telemetry["difficultyMean"]).toBeCloseTo(0.5833333333333334, 12);
  });

  it("without STCR nothing is penalised (scale 1); without positive samples no DADS weights are reported", () => {
    const ones = correct.map(() => 1);
    const telemetry = mechanismTelemetry({
      correct: correct.map(() => false),
      advantages: correct.map(() => 0),
      klWeights: ones,
      stcrScales: ones,
      groupSize,
    });
    expect(telemetry).toEqual({ stcrPenalisedFraction: 0, stcrMeanScale: 1, difficultyMean: 1 });
  });

  it("rejects mismatched lengths and non-finite values naming the field", () => {
    const ones = correct.map(() => 1);
    expect(() =>
      mechanismTelemetry({ correct, advantages: ones, klWeights: [1], stcrScales: ones, groupSize }),
    ).toThrow(InvalidInputError);
    expect(() =>
      mechanismTelemetry({
        correct,
        advantages: ones,
        klWeights: ones,
        stcrScales: ones.map((value, index) => (index === 3 ? Number.NaN : value)),
        groupSize,
      }),
    ).toThrow(/stcrScales/);
  });

  it("klShareOfLoss is |kl| / (|policy| + |kl|), undefined when both are 0", () => {
    expect(klShareOfLoss(0.3, 0.1)).toBeCloseTo(0.25, 12);
    expect(klShareOfLoss(-0.3, 0.1)).toBeCloseTo(0.25, 12);
    expect(klShareOfLoss(0, 2e-5)).toBe(1);
    expect(klShareOfLoss(0, 0)).toBeUndefined();
  });

  it("is part of every built-in objective's metric names, after the contract's names", () => {
    for (const objective of ["grpo", "drGrpo", "dapo", "grpoD", "apo"]) {
      const names = createObjective(objective).metricNames;
      expect(names.slice(0, objectiveMetricNames.length)).toEqual(objectiveMetricNames);
      for (const name of mechanismTelemetryNames) expect(names).toContain(name);
    }
  });
});

/** One token per response; logp = logpOld (on-policy), logpRef 0.1 lower. */
const batch: ReferenceInput = {
  logpOld: correct.map(() => [-1]),
  logp: correct.map(() => [-1]),
  logpRef: correct.map(() => [-1.1]),
  mask: correct.map(() => [1]),
  rewards,
  correct,
  groupSize,
};

describe.each(await testBackends())("objectives report the telemetry on %s", (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  const run = async (objective: ReturnType<typeof apo>) => {
    const tensors = toTensors(batch);
    const { loss, metrics } = await lossWithMetrics(
      objective,
      { ...tensors, lengths },
      { step: 0, totalSteps: 1 },
    );
    loss.dispose();
    disposeInput(tensors);
    return metrics;
  };

  it("apo with stcrBase 1.001: the hand-worked values, and the KL share of the loss", async () => {
    const before = tf.memory().numTensors;
    const metrics = await run(apo({ stcrBase: 1.001 }));
    expect(metrics["stcrPenalisedFraction"]).toBeCloseTo(1 / 7, 12);
    expect(metrics["stcrMeanScale"]).toBeCloseTo(S_EIGHT, 12);
    expect(metrics["dadsWeightMin"]).toBeCloseTo(W_HALF, 12);
    expect(metrics["dadsWeightMax"]).toBeCloseTo(W_QUARTER, 12);
    expect(metrics["dadsWeightMean"]).toBeCloseTo(0.8191296273096892, 12);
    expect(metrics["difficultyMean"]).toBeCloseTo(0.5833333333333334, 12);
    const share =
      Math.abs(metrics["klLoss"]!) / (Math.abs(metrics["policyLoss"]!) + Math.abs(metrics["klLoss"]!));
    expect(metrics["klShareOfLoss"]).toBeCloseTo(share, 12);
    expect(metrics["klShareOfLoss"]).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("grpo: STCR penalises nothing and every DADS weight is 1, difficulty as for apo", async () => {
    const metrics = await run(grpo());
    expect(metrics["stcrPenalisedFraction"]).toBe(0);
    expect(metrics["stcrMeanScale"]).toBe(1);
    expect([metrics["dadsWeightMin"], metrics["dadsWeightMax"], metrics["dadsWeightMean"]]).toEqual([
      1, 1, 1,
    ]);
    expect(metrics["difficultyMean"]).toBeCloseTo(0.5833333333333334, 12);
  });
});
