import { InvalidInputError } from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { type AggregationMode, maskedAggregate } from "../../src/ops/maskedAggregate.js";
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

/** Float64 reference, written from the spec's definitions. */
const reference64 = (
  values: ReadonlyArray<number>,
  mask: ReadonlyArray<number>,
  [sequences, length]: readonly [number, number],
  mode: AggregationMode,
  maxLength = length,
): number => {
  const sums: Array<number> = [];
  const counts: Array<number> = [];
  for (let s = 0; s < sequences; s++) {
    let sum = 0;
    let count = 0;
    for (let t = 0; t < length; t++) {
      sum += values[s * length + t]! * mask[s * length + t]!;
      count += mask[s * length + t]!;
    }
    sums.push(sum);
    counts.push(count);
  }
  const total = sums.reduce((a, b) => a + b, 0);
  const tokens = counts.reduce((a, b) => a + b, 0);
  const present = counts.map((count, s) => ({ count, sum: sums[s]! })).filter(({ count }) => count > 0);
  switch (mode) {
    case "token-mean":
      return tokens === 0 ? 0 : total / tokens;
    case "seq-mean-token-mean":
      return present.length === 0
        ? 0
        : present.reduce((a, { sum, count }) => a + sum / count, 0) / present.length;
    case "seq-mean-token-sum":
      return present.length === 0 ? 0 : present.reduce((a, { sum }) => a + sum, 0) / present.length;
    case "seq-mean-token-sum-norm":
      return total / (sequences * maxLength);
  }
};

const modes: ReadonlyArray<AggregationMode> = [
  "token-mean",
  "seq-mean-token-mean",
  "seq-mean-token-sum",
  "seq-mean-token-sum-norm",
];

// Four sequences of length 5: ragged lengths 5, 2, 0 (a padding row) and 3.
const shape = [4, 5] as const;
const mask = [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0];

describe.each(await opsBackends())("maskedAggregate on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(modes)("%s matches the float64 definition and its gradient", async (mode) => {
    const random = seededRandom(21);
    const values = uniform(random, 20, -2, 2);
    const v = tf.tensor2d(values, [...shape]);
    const m = tf.tensor2d(mask, [...shape]);
    const actual = await withoutLeaks(async () => await take(maskedAggregate(v, m, mode)));
    expectClose(actual, [reference64(values, mask, shape, mode)], 1e-5, 1e-6);
    const [gradient] = await withoutLeaks(
      async () => await gradients((x) => maskedAggregate(x as tf.Tensor2D, m, mode), [v]),
    );
    expectClose(
      gradient!,
      finiteDifferences((x) => reference64(x, mask, shape, mode), values),
      1e-4,
      1e-6,
    );
    tf.dispose([v, m]);
  });

  it("works the hand example: lengths 2 and 1, values 1..", async () => {
    const v = tf.tensor2d([1, 3, 100, 6, 100, 100], [2, 3]);
    const m = tf.tensor2d([1, 1, 0, 1, 0, 0], [2, 3]);
    const results = await withoutLeaks(async () =>
      Promise.all(modes.map(async (mode) => (await take(maskedAggregate(v, m, mode, { maxLength: 4 })))[0]!)),
    );
    // token-mean (1+3+6)/3; seq-mean-token-mean (2+6)/2; seq-mean-token-sum (4+6)/2; norm 10/(2·4)
    expectClose(results, [10 / 3, 4, 5, 1.25]);
    tf.dispose([v, m]);
  });

  it("gives 0 (not NaN) for an all-padding batch, and a zero gradient", async () => {
    const v = tf.ones([2, 3]) as tf.Tensor2D;
    const m = tf.zeros([2, 3]) as tf.Tensor2D;
    for (const mode of modes) {
      expect(await withoutLeaks(async () => await take(maskedAggregate(v, m, mode)))).toEqual([0]);
      const [gradient] = await withoutLeaks(
        async () => await gradients((x) => maskedAggregate(x as tf.Tensor2D, m, mode), [v]),
      );
      expect(gradient).toEqual([0, 0, 0, 0, 0, 0]);
    }
    tf.dispose([v, m]);
  });

  it("rejects a mask of another shape, unknown modes and a bad maxLength", async () => {
    const v = tf.zeros([2, 3]) as tf.Tensor2D;
    const m = tf.zeros([3, 2]) as tf.Tensor2D;
    expect(() => maskedAggregate(v, m, "token-mean")).toThrow(InvalidInputError);
    expect(() => maskedAggregate(v, v, "mean" as AggregationMode)).toThrow(/mode/);
    expect(() => maskedAggregate(v, v, "seq-mean-token-sum-norm", { maxLength: 0 })).toThrow(/maxLength/);
    tf.dispose([v, m]);
  });
});
