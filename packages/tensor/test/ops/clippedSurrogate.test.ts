import { InvalidInputError } from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { clippedSurrogate } from "../../src/ops/clippedSurrogate.js";
import {
  expectClose,
  finiteDifferences,
  gradients,
  opsBackends,
  seededRandom,
  take,
  uniform,
  useBackend,
  withoutLeaks,
} from "./support.js";

interface Options {
  readonly epsLow: number;
  readonly epsHigh: number;
  readonly dualClip?: number;
}

/** Float64 reference of one token, from the spec. */
const token64 = (logp: number, logpOld: number, advantage: number, options: Options) => {
  const ratio = Math.exp(logp - logpOld);
  const clippedRatio = Math.min(Math.max(ratio, 1 - options.epsLow), 1 + options.epsHigh);
  const unclipped = -ratio * advantage;
  const clippedLoss = -clippedRatio * advantage;
  let loss = -Math.min(ratio * advantage, clippedRatio * advantage);
  let dual = 0;
  if (options.dualClip !== undefined && advantage < 0) {
    if (loss > -options.dualClip * advantage) dual = 1;
    loss = Math.min(loss, -options.dualClip * advantage);
  }
  return { loss, clipped: clippedLoss > unclipped ? 1 : 0, dual };
};

const [S, T] = [3, 5];

describe.each(await opsBackends())("clippedSurrogate on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  const random = seededRandom(31);
  // Log-ratios spread over [-0.6, 0.6] so both clip bounds and the dual clip are hit.
  const logpOld = uniform(random, S * T, -3, -0.5);
  const logp = logpOld.map((value) => Math.fround(value + (random() - 0.5) * 1.2));
  const perSequence = [1.5, -2, -0.25];
  const perToken = uniform(random, S * T, -2, 2);
  const mask = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0];

  const cases: ReadonlyArray<[string, Options, boolean]> = [
    ["symmetric clip, [S] advantages", { epsLow: 0.2, epsHigh: 0.2 }, true],
    ["clip-higher, [S,T] advantages", { epsLow: 0.2, epsHigh: 0.28 }, false],
    ["dual clip c = 1.1, [S] advantages", { epsLow: 0.2, epsHigh: 0.2, dualClip: 1.1 }, true],
  ];

  it.each(cases)(
    "%s: loss, clip fractions and gradient match the float64 reference",
    async (_, options, broadcast) => {
      const advantageAt = (index: number) =>
        broadcast ? perSequence[Math.floor(index / T)]! : perToken[index]!;
      const expected = logp.map((value, index) =>
        token64(value, logpOld[index]!, advantageAt(index), options),
      );
      const lp = tf.tensor2d(logp, [S, T]);
      const old = tf.tensor2d(logpOld, [S, T]);
      const adv = broadcast ? tf.tensor1d(perSequence) : tf.tensor2d(perToken, [S, T]);
      const m = tf.tensor2d(mask, [S, T]);
      const result = await withoutLeaks(async () => {
        const out = clippedSurrogate(lp, old, adv, { ...options, mask: m });
        return {
          loss: await take(out.loss),
          clipped: await take(out.clipped),
          clipFraction: (await take(out.clipFraction))[0]!,
          dualClipFraction: (await take(out.dualClipFraction))[0]!,
        };
      });
      expectClose(
        result.loss,
        expected.map(({ loss }) => loss),
        1e-5,
        1e-6,
      );
      expect(result.clipped).toEqual(expected.map(({ clipped }) => clipped));
      const maskedMean = (flags: ReadonlyArray<number>) =>
        flags.reduce((sum, flag, index) => sum + flag * mask[index]!, 0) / mask.reduce((a, b) => a + b);
      expect(result.clipFraction).toBeCloseTo(maskedMean(expected.map(({ clipped }) => clipped)), 6);
      expect(result.dualClipFraction).toBeCloseTo(maskedMean(expected.map(({ dual }) => dual)), 6);
      if (options.dualClip !== undefined) expect(result.dualClipFraction).toBeGreaterThan(0);
      expect(result.clipFraction).toBeGreaterThan(0);

      const weights = uniform(random, S * T, 0.5, 1.5);
      const w = tf.tensor2d(weights, [S, T]);
      const [gradient] = await withoutLeaks(
        async () =>
          await gradients((x) => tf.sum(tf.mul(clippedSurrogate(x!, old, adv, options).loss, w)), [lp]),
      );
      const total = (point: ReadonlyArray<number>) =>
        point.reduce(
          (sum, value, index) =>
            sum + weights[index]! * token64(value, logpOld[index]!, advantageAt(index), options).loss,
          0,
        );
      expectClose(gradient!, finiteDifferences(total, logp), 1e-4, 1e-6);
      tf.dispose([lp, old, adv, m, w]);
    },
  );

  it("keeps the loss and gradient finite for huge log-ratios (clamped at ±20)", async () => {
    const lp = tf.tensor1d([0, -200]);
    const old = tf.tensor1d([-200, 0]);
    const adv = tf.tensor1d([1, -1]);
    const out = await withoutLeaks(async () => {
      const result = clippedSurrogate(lp, old, adv, { epsLow: 0.2, epsHigh: 0.2 });
      tf.dispose([result.clipped, result.clipFraction, result.dualClipFraction]);
      return await take(result.loss);
    });
    expectClose(out, [-1.2, 0.8]);
    const [gradient] = await withoutLeaks(
      async () =>
        await gradients(
          (x) => tf.sum(clippedSurrogate(x!, old, adv, { epsLow: 0.2, epsHigh: 0.2 }).loss),
          [lp],
        ),
    );
    expect(gradient!.every(Number.isFinite)).toBe(true);
    tf.dispose([lp, old, adv]);
  });

  it("rejects advantages of the wrong shape and bad clip options", async () => {
    const lp = tf.zeros([2, 3]);
    const bad = tf.zeros([3]);
    expect(() => clippedSurrogate(lp, lp, bad, { epsLow: 0.2, epsHigh: 0.2 })).toThrow(InvalidInputError);
    expect(() => clippedSurrogate(lp, lp, lp, { epsLow: 1.2, epsHigh: 0.2 })).toThrow(/epsLow/);
    expect(() => clippedSurrogate(lp, lp, lp, { epsLow: 0.2, epsHigh: 0.2, dualClip: 0.5 })).toThrow(
      /dualClip/,
    );
    tf.dispose([lp, bad]);
  });
});
