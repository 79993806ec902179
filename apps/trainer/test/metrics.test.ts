import type { Rollout, ScoredRollout } from "@apo-rl/core";
import { describe, expect, it } from "vitest";
import { headlineMetric, rolloutStatistics } from "../src/metrics.js";
import { formatDuration, formatProgressLine } from "../src/progress.js";
import type { ScoredGroup } from "../src/scoring.js";
import { groupRollouts, rewardBreakdown, uniqueRequests } from "../src/scoring.js";

const rollout = (promptId: string, groupIndex: number, length: number): Rollout => ({
  promptId,
  groupIndex,
  tokenIds: Array.from({ length }, () => 1),
  logprobs: Array.from({ length }, () => -0.5),
  text: "x",
  finishReason: "stop",
});

const scored = (length: number, reward: number, correct: boolean, format?: number): ScoredRollout => ({
  rollout: rollout("p", 0, length),
  reward,
  correct,
  rewardBreakdown: format === undefined ? { accuracy: reward } : { accuracy: correct ? 1 : 0, format },
});

const example = { request: { promptId: "p", messages: [] }, answer: "1" };

describe("rollout statistics", () => {
  it("computes rewards, accuracy, format rate, lengths and zero-spread groups by hand", () => {
    const groups: ScoredGroup[] = [
      {
        example,
        rollouts: [scored(10, 1.5, true, 0.5), scored(30, 0.5, false, 0.5), scored(20, 0, false, 0)],
      },
      {
        example,
        rollouts: [scored(4, 0.5, false, 0.5), scored(6, 0.5, false, 0.5), scored(8, 0.5, false, 0.5)],
      },
    ];
    const statistics = rolloutStatistics(groups);
    expect(statistics.reward).toBeCloseTo((1.5 + 0.5 + 0 + 0.5 * 3) / 6, 12);
    expect(statistics.accuracy).toBeCloseTo(1 / 6, 12);
    expect(statistics.formatRate).toBeCloseTo(5 / 6, 12);
    expect(statistics.meanLengthCorrect).toBe(10);
    expect(statistics.meanLengthIncorrect).toBeCloseTo((30 + 20 + 4 + 6 + 8) / 5, 12);
    expect(statistics.meanLength).toBeCloseTo(78 / 6, 12);
    expect(statistics.zeroSpreadGroupFraction).toBe(0.5);
    expect(statistics.generatedTokens).toBe(78);
    expect(statistics.samples).toBe(6);
  });

  it("reports null where a statistic cannot be measured", () => {
    const statistics = rolloutStatistics([{ example, rollouts: [scored(3, 0, false)] }]);
    expect(statistics.formatRate).toBeNull();
    expect(statistics.meanLengthCorrect).toBeNull();
  });

  it("finds the objectives' headline metrics by their names", () => {
    const metrics = { clipFraction: 0.1, dadsWeightPositiveMean: 0.8, stcrScalePenalisedMean: 1.2, kl: 0.01 };
    expect(headlineMetric(metrics, "dadsWeight")).toBe(0.8);
    expect(headlineMetric(metrics, "stcrScale")).toBe(1.2);
    // One spelling: the contract's. Other spellings are not guessed.
    expect(headlineMetric({ clip_fraction: 0.3 }, "clipFraction")).toBeNull();
    expect(headlineMetric({ clipFraction: 0.3 }, "clipFraction")).toBe(0.3);
    expect(headlineMetric({}, "kl")).toBeNull();
  });
});

describe("scoring helpers", () => {
  it("groups rollouts by request order and group index, and rejects missing members", () => {
    const requests = [
      { promptId: "a", messages: [] },
      { promptId: "b", messages: [] },
    ];
    const groups = groupRollouts(
      requests,
      [rollout("b", 1, 1), rollout("a", 1, 2), rollout("b", 0, 3), rollout("a", 0, 4)],
      2,
    );
    expect(groups.map((group) => group.map((item) => `${item.promptId}${item.groupIndex}`))).toEqual([
      ["a0", "a1"],
      ["b0", "b1"],
    ]);
    expect(() =>
      groupRollouts(requests, [rollout("a", 0, 1), rollout("a", 1, 1), rollout("b", 0, 1)], 2),
    ).toThrow(/group indexes \[0\] for prompt "b", expected 0..1/);
    expect(() => groupRollouts(requests, [rollout("c", 0, 1)], 1)).toThrow(/unknown prompt "c"/);
  });

  it("makes prompt ids unique within a batch", () => {
    const ids = uniqueRequests([
      example,
      example,
      { ...example, request: { promptId: "q", messages: [] } },
      example,
    ]).map((request) => request.promptId);
    expect(ids).toEqual(["p", "p#2", "q", "p#3"]);
  });

  it("takes a composite verifier's numeric breakdown, else the single reward", () => {
    expect(
      rewardBreakdown(
        { reward: 1.5, correct: true, details: { breakdown: { accuracy: 1, format: 0.5, note: "x" } } },
        "v",
      ),
    ).toEqual({ accuracy: 1, format: 0.5 });
    expect(rewardBreakdown({ reward: 1, correct: true, details: {} }, "math")).toEqual({ math: 1 });
  });
});

describe("progress line", () => {
  it("formats durations", () => {
    expect(formatDuration(45)).toBe("45s");
    expect(formatDuration(192)).toBe("3m12s");
    expect(formatDuration(7500)).toBe("2h05m");
    expect(formatDuration(Number.NaN)).toBe("?");
  });

  it("shows the bar, ETA and key numbers", () => {
    const line = formatProgressLine(
      {
        kind: "train",
        step: 5,
        lr: 1e-3,
        loss: 0.0123,
        gradNorm: 1,
        kl: 0.0005,
        entropy: 1.2,
        clipFraction: 0.02,
        dadsWeight: 0.9,
        stcrScale: 1.01,
        reward: 0.75,
        accuracy: 0.5,
        formatRate: 1,
        meanLength: 30,
        meanLengthCorrect: 20,
        meanLengthIncorrect: 40,
        zeroSpreadGroupFraction: 0.25,
        samples: 16,
        generatedTokens: 480,
        tokensPerSecond: 812.4,
        stepSeconds: 3.4,
        generationSeconds: 2,
        memoryBytes: 0,
        numTensors: 0,
        skipped: false,
        skipReason: null,
        objective: {},
      },
      20,
      3.4,
      8,
    );
    expect(line).toBe(
      "step 5/20 [=>      ] 25% ETA 51s | reward 0.750 acc 0.500 fmt 1.00 len 20/40 | loss 0.0123 kl 5.0e-4 ent 1.200 clip 0.020 | 3.4s/step 812 tok/s",
    );
  });
});
