import { InvalidInputError } from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { type KlEstimator, klEstimate } from "../../src/ops/klEstimate.js";
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

/** Float64 reference of the estimators, straight from the spec (d = logpRef - logp). */
const reference64 = (kind: KlEstimator, logp: number, logpRef: number): number => {
  const d = logpRef - logp;
  switch (kind) {
    case "k1":
      return -d;
    case "k2":
      return (d * d) / 2;
    case "k3":
      return Math.expm1(d) - d;
    case "low-var-kl":
      return Math.min(10, Math.max(-10, Math.expm1(d) - d));
  }
};

const kinds: ReadonlyArray<KlEstimator> = ["k1", "k2", "k3", "low-var-kl"];

describe.each(await opsBackends())("klEstimate on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(kinds)("%s matches the float64 formula, also for tiny and large differences", async (kind) => {
    const random = seededRandom(11);
    const logp = [...uniform(random, 12, -4, 0), -1, -1, -1, -2, -30, -0.5].map(Math.fround);
    const logpRef = [...uniform(random, 12, -4, 0), -1.00001, -1.003, -0.9999, -2, -0.5, -30].map(
      Math.fround,
    );
    const expected = logp.map((value, index) => reference64(kind, value, logpRef[index]!));
    const a = tf.tensor2d(logp, [3, 6]);
    const b = tf.tensor2d(logpRef, [3, 6]);
    const actual = await withoutLeaks(async () => await take(klEstimate(a, b, kind)));
    // Tiny differences are the hard case for k3 in float32: compare relatively, down to 1e-12.
    expectClose(actual, expected, 2e-5, 1e-12 + (kind === "k1" ? 1e-6 : 0));
    tf.dispose([a, b]);
  });

  it("keeps k3 non-negative and low-var-kl inside [-10, 10] with finite gradients at extremes", async () => {
    const a = tf.tensor1d([-50, 0, -1, -1e-7]);
    const b = tf.tensor1d([0, -50, -1, 0]);
    const values = await withoutLeaks(async () => await take(klEstimate(a, b, "low-var-kl")));
    expect(values[0]).toBe(10); // d = 50: k3 ≈ 5e21
    expect(values[1]).toBe(10); // d = -50: k3 = 49
    expect(values[2]).toBe(0);
    expect(values[3]).toBeGreaterThanOrEqual(0);
    const grads = await withoutLeaks(
      async () => await gradients((x, y) => tf.sum(klEstimate(x!, y!, "low-var-kl")), [a, b]),
    );
    expect(grads.flat().every(Number.isFinite)).toBe(true);
    tf.dispose([a, b]);
  });

  it.each(kinds)("%s has the gradient of the float64 reference in logp and logpRef", async (kind) => {
    const random = seededRandom(12);
    const logp = uniform(random, 6, -3, 0);
    const logpRef = uniform(random, 6, -3, 0);
    const weights = uniform(random, 6, -1, 1);
    const a = tf.tensor1d(logp);
    const b = tf.tensor1d(logpRef);
    const w = tf.tensor1d(weights);
    const [gradLogp, gradRef] = await withoutLeaks(
      async () => await gradients((x, y) => tf.sum(tf.mul(klEstimate(x!, y!, kind), w)), [a, b]),
    );
    const total = (p: ReadonlyArray<number>, r: ReadonlyArray<number>) =>
      p.reduce((sum, value, index) => sum + weights[index]! * reference64(kind, value, r[index]!), 0);
    expectClose(
      gradLogp!,
      finiteDifferences((p) => total(p, logpRef), logp),
      1e-4,
      1e-6,
    );
    expectClose(
      gradRef!,
      finiteDifferences((r) => total(logp, r), logpRef),
      1e-4,
      1e-6,
    );
    tf.dispose([a, b, w]);
  });

  it("rejects mismatched shapes and unknown estimators", async () => {
    const a = tf.zeros([2, 3]);
    const b = tf.zeros([3, 2]);
    expect(() => klEstimate(a, b, "k3")).toThrow(InvalidInputError);
    expect(() => klEstimate(a, a, "k4" as KlEstimator)).toThrow(/kind.*k1, k2, k3, low-var-kl/s);
    tf.dispose([a, b]);
  });
});
