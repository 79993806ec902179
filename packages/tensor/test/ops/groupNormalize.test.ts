import { InvalidInputError } from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { groupNormalize } from "../../src/ops/groupNormalize.js";
import { expectClose, opsBackends, take, useBackend, withoutLeaks } from "./support.js";

describe("groupNormalize on number arrays", () => {
  it("works the hand example: two groups of two with unbiased std", async () => {
    // Group [1, 0]: mean 0.5, unbiased std sqrt(0.5) → ±0.5 / 0.70711 = ±0.70711.
    expectClose(
      groupNormalize([1, 0, 0, 1], 2),
      [Math.SQRT1_2, -Math.SQRT1_2, -Math.SQRT1_2, Math.SQRT1_2],
      1e-8,
    );
  });

  it("matches the spec for group, batch and none scaling on a G = 4 batch", async () => {
    const rewards = [1, 0.5, 0, 0, 1.5, 1.5, 1, 0];
    // group 1: mean 0.375, std = sqrt(((.625)²+(.125)²+2(.375)²)/3) = sqrt(0.229167)
    const std1 = Math.sqrt((0.625 ** 2 + 0.125 ** 2 + 2 * 0.375 ** 2) / 3);
    // group 2: mean 1, deviations .5 .5 0 -1
    const std2 = Math.sqrt((0.25 + 0.25 + 0 + 1) / 3);
    const centred = [0.625, 0.125, -0.375, -0.375, 0.5, 0.5, 0, -1];
    const batchMean = rewards.reduce((a, b) => a + b) / 8;
    const batchStd = Math.sqrt(rewards.reduce((a, r) => a + (r - batchMean) ** 2, 0) / 7);
    const eps = 1e-4;
    expectClose(
      groupNormalize(rewards, 4, { eps }),
      centred.map((c, i) => c / ((i < 4 ? std1 : std2) + eps)),
      1e-12,
    );
    expectClose(
      groupNormalize(rewards, 4, { scale: "batch", eps }),
      centred.map((c) => c / (batchStd + eps)),
      1e-12,
    );
    expectClose(groupNormalize(rewards, 4, { scale: "none" }), centred, 1e-12);
  });

  it("gives exactly 0 to a group whose rewards are all equal (no 0 / eps noise)", async () => {
    expect(groupNormalize([0.1, 0.1, 0.1, 1, 0, 1], 3)).toEqual([
      0,
      0,
      0,
      expect.any(Number),
      expect.any(Number),
      expect.any(Number),
    ]);
    expect(groupNormalize([0.1, 0.1, 0.1], 3, { scale: "none" })).toEqual([0, 0, 0]);
  });

  it("rejects sizes that do not split, non-finite rewards and a group of one with std scaling", async () => {
    expect(() => groupNormalize([1, 2, 3], 2)).toThrow(InvalidInputError);
    expect(() => groupNormalize([1, Number.NaN], 2)).toThrow(/values\[1\]/);
    expect(() => groupNormalize([1, 2], 1)).toThrow(/at least 2/);
    expect(() => groupNormalize([1, 2], 2, { eps: -1 })).toThrow(/eps/);
    expect(groupNormalize([1, 2], 1, { scale: "none" })).toEqual([0, 0]);
  });
});

describe.each(await opsBackends())("groupNormalize on %s tensors", (backend) => {
  beforeAll(() => useBackend(backend));

  it("returns the number-array result as a float32 tensor and leaks nothing", async () => {
    const rewards = [1, 0.5, 0, 0, 1.5, 1.5, 1, 0];
    const input = tf.tensor1d(rewards);
    for (const scale of ["group", "batch", "none"] as const) {
      const actual = await withoutLeaks(async () => await take(groupNormalize(input, 4, { scale })));
      expectClose(actual, groupNormalize(rewards, 4, { scale }), 1e-6, 1e-7);
    }
    const matrix = tf.zeros([2, 2]);
    expect(() => groupNormalize(matrix as tf.Tensor1D, 2)).toThrow(/\[S\]/);
    tf.dispose([input, matrix]);
  });
});
