import { decodeSync, Group, InvalidInputError } from "@apo-rl/core";
import { describe, expect, it } from "vitest";
import {
  dadsWeight,
  dadsWeights,
  difficulty,
  filterUniformGroups,
  groupAdvantages,
  klSchedule,
  overlongPenalty,
  stcrPenalised,
  stcrScale,
  stcrScales,
} from "../src/index.js";

const caught = (run: () => unknown): InvalidInputError => {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error("expected an InvalidInputError");
};

describe("groupAdvantages", () => {
  it("normalises each group by its unbiased standard deviation (hand-worked)", () => {
    // Group [1, 0, 0, 1]: mean 0.5, unbiased std sqrt(1/3) → ±0.5·sqrt(3) = ±0.8660254.
    // Group [1.5, 0.5, 0.5, 0.5]: mean 0.75, std sqrt(0.75/3) = 0.5 → 1.5, −0.5, −0.5, −0.5.
    const advantages = groupAdvantages([1, 0, 0, 1, 1.5, 0.5, 0.5, 0.5], 4);
    const half = 0.5 * Math.sqrt(3);
    const expected = [half, -half, -half, half, 1.5, -0.5, -0.5, -0.5];
    for (const [index, value] of advantages.entries()) expect(value).toBeCloseTo(expected[index]!, 6);
  });

  it("uses eps in the divisor (eps = 1 halves a unit-std group)", () => {
    // [2, 0]: mean 1, std sqrt(2) → (1)/(sqrt 2 + 1) = 0.41421356.
    const [first, second] = groupAdvantages([2, 0], 2, { eps: 1 });
    expect(first).toBeCloseTo(1 / (Math.SQRT2 + 1), 9);
    expect(second).toBeCloseTo(-1 / (Math.SQRT2 + 1), 9);
  });

  it("gives zero advantages to a group with equal rewards", () => {
    expect(groupAdvantages([0.5, 0.5, 0.5], 3)).toEqual([0, 0, 0]);
  });

  it("drops the division with scale none (Dr.GRPO) and uses the batch std with scale batch", () => {
    expect(groupAdvantages([1, 0, 3, 3], 2, { scale: "none" })).toEqual([0.5, -0.5, 0, 0]);
    // Batch [1, 0, 3, 3]: mean 1.75, squares 0.5625 + 3.0625 + 1.5625·2 = 6.75 → std sqrt(2.25) = 1.5.
    const batch = groupAdvantages([1, 0, 3, 3], 2, { scale: "batch", eps: 0 });
    expect(batch[0]).toBeCloseTo(0.5 / 1.5, 12);
    expect(batch[1]).toBeCloseTo(-0.5 / 1.5, 12);
  });

  it("rejects a group size that does not divide the batch, naming groupSize", () => {
    const error = caught(() => groupAdvantages([1, 0, 1], 2));
    expect(error.field).toBe("groupSize");
    expect(caught(() => groupAdvantages([1, Number.NaN], 2)).field).toBe("rewards[1]");
  });
});

describe("difficulty", () => {
  it("is the fraction of the group that got it wrong", () => {
    const correct = [true, true, false, false, false, false, false, false, true, true, true, true];
    expect(difficulty(correct, 4)).toEqual([0.5, 1, 0]);
  });
});

describe("DADS", () => {
  it("matches the spec's worked examples (G = 8)", () => {
    expect(dadsWeight(0.75)).toBeCloseTo(0.493165, 6);
    expect(dadsWeight(0.25)).toBeCloseTo(0.869804, 6);
    expect(dadsWeight(0)).toBe(1);
    expect(dadsWeight(1)).toBe(1);
    expect(dadsWeight(1e-12)).toBeCloseTo(1 - Math.exp(-Math.E), 9); // f(0+) ≈ 0.934
    expect(dadsWeight(0.25, "exp-decay")).toBeCloseTo(Math.exp(-Math.E / 4), 12);
  });

  it("weights only samples with a positive advantage", () => {
    const correct = [true, true, false, false, false, false, false, false];
    const advantages = groupAdvantages(
      correct.map((flag) => (flag ? 1 : 0)),
      8,
    );
    const weights = dadsWeights(correct, advantages, 8);
    expect(weights.slice(0, 2).map((w) => Number(w.toFixed(6)))).toEqual([0.493165, 0.493165]);
    expect(weights.slice(2)).toEqual([1, 1, 1, 1, 1, 1]);
  });
});

describe("STCR", () => {
  it("matches the spec's worked examples", () => {
    // Correct lengths [100, 140] → μ = 120; an incorrect response of 620 tokens.
    const scales = stcrScales([true, true, false, false], [100, 140, 620, 90], 4);
    expect(scales[0]).toBe(1);
    expect(scales[1]).toBe(1);
    expect(scales[2]).toBeCloseTo(1.0049875, 6);
    expect(scales[3]).toBe(1);
    expect(stcrScale(1000)).toBeCloseTo(1.00995, 6);
    expect(stcrScale(1000, 1.001)).toBeCloseTo(1.63194, 5);
    expect(stcrPenalised([true, true, false, false], [100, 140, 620, 90], 4)).toEqual([
      false,
      false,
      true,
      false,
    ]);
  });

  it("leaves groups without a correct response alone", () => {
    expect(stcrScales([false, false], [10, 5000], 2, { base: 1.01 })).toEqual([1, 1]);
  });

  it("stays below 2 even when the exponential underflows", () => {
    expect(stcrScale(1e9, 1.5)).toBeLessThan(2);
  });

  it("rejects a base ≤ 1, naming base", () => {
    expect(caught(() => stcrScales([true], [1], 1, { base: 1 })).field).toBe("base");
  });
});

describe("klSchedule", () => {
  const total = 100;
  it("holds betaMax when constant", () => {
    const beta = klSchedule({ kind: "constant", betaMax: 0.01 });
    expect(beta({ step: 0, totalSteps: total })).toBe(0.01);
    expect(beta({ step: 99, totalSteps: total })).toBe(0.01);
  });

  it("ramps linearly over the warm-up fraction, then stays flat", () => {
    const beta = klSchedule({ kind: "linear", betaMin: 0.001, betaMax: 0.011, warmupFraction: 0.5 });
    expect(beta({ step: 0, totalSteps: total })).toBeCloseTo(0.001, 12);
    expect(beta({ step: 25, totalSteps: total })).toBeCloseTo(0.006, 12);
    expect(beta({ step: 50, totalSteps: total })).toBeCloseTo(0.011, 12);
    expect(beta({ step: 90, totalSteps: total })).toBeCloseTo(0.011, 12);
  });

  it("follows a half cosine", () => {
    const beta = klSchedule({ kind: "cosine", betaMin: 0, betaMax: 1, warmupFraction: 1 });
    expect(beta({ step: 25, totalSteps: total })).toBeCloseTo((1 - Math.cos(Math.PI / 4)) / 2, 12);
    expect(beta({ step: 50, totalSteps: total })).toBeCloseTo(0.5, 12);
    expect(beta({ step: 100, totalSteps: total })).toBeCloseTo(1, 12);
  });

  it("rejects bad options naming the option", () => {
    expect(caught(() => klSchedule({ warmupFraction: 2 })).field).toBe("warmupFraction");
    expect(caught(() => klSchedule({ kind: "step" as never })).field).toBe("kind");
    expect(caught(() => klSchedule({ betaMax: -1 })).field).toBe("betaMax");
  });
});

describe("overlongPenalty", () => {
  it("is 0, then linear over the buffer, then −1", () => {
    expect(overlongPenalty([100, 768, 800, 896, 1024, 1025], { maxLength: 1024, buffer: 256 })).toEqual([
      0,
      0,
      -32 / 256,
      -128 / 256,
      -1,
      -1,
    ]);
  });

  it("rejects a buffer longer than maxLength", () => {
    expect(caught(() => overlongPenalty([1], { maxLength: 10, buffer: 20 })).field).toBe("buffer");
  });
});

describe("filterUniformGroups", () => {
  it("drops groups whose rewards are all equal", () => {
    const group = (rewards: ReadonlyArray<number>) => ({ rollouts: rewards.map((reward) => ({ reward })) });
    const groups = [group([1, 1]), group([0, 1]), group([0.5, 0.5]), group([1.5, 0.5])];
    expect(filterUniformGroups(groups)).toEqual([groups[1], groups[3]]);
  });

  it("accepts core Groups of scored rollouts", () => {
    const scored = (groupIndex: number, reward: number) => ({
      rollout: {
        promptId: "p",
        groupIndex,
        tokenIds: [1],
        logprobs: [-0.5],
        text: "4",
        finishReason: "stop",
      },
      reward,
      correct: reward >= 1,
      rewardBreakdown: { accuracy: reward },
    });
    const decode = decodeSync(Group, "Group");
    const mixed = decode({ promptId: "p", rollouts: [scored(0, 1), scored(1, 0)] });
    const solved = decode({ promptId: "p", rollouts: [scored(0, 1), scored(1, 1)] });
    expect(filterUniformGroups([mixed, solved])).toEqual([mixed]);
  });
});
