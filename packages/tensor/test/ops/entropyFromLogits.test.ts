import { InvalidInputError } from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { entropyFromLogits } from "../../src/ops/entropyFromLogits.js";
import {
  entropy64,
  expectClose,
  finiteDifferences,
  gradients,
  opsBackends,
  row,
  seededRandom,
  take,
  uniform,
  useBackend,
  withoutLeaks,
} from "./support.js";

const QWEN_VOCABULARY = 151_936;

const reference = (logits: ReadonlyArray<number>, rows: number, width: number) =>
  Array.from({ length: rows }, (_, r) => entropy64(row(logits, width, r)));

describe.each(await opsBackends())("entropyFromLogits on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  it("matches the float64 entropy for every chunk size, and its gradient", async () => {
    const random = seededRandom(51);
    const [rows, width] = [5, 9];
    const logits = uniform(random, rows * width, -4, 4);
    const x = tf.tensor2d(logits, [rows, width]);
    for (const chunkSize of [1, 2, 5]) {
      const actual = await withoutLeaks(async () => await take(entropyFromLogits(x, { chunkSize })));
      expectClose(actual, reference(logits, rows, width), 1e-5, 1e-5);
    }
    const weights = uniform(random, rows, -1, 1);
    const w = tf.tensor1d(weights);
    const [gradient] = await withoutLeaks(
      async () =>
        await gradients(
          (input) => tf.sum(tf.mul(entropyFromLogits(input as tf.Tensor2D, { chunkSize: 2 }), w)),
          [x],
        ),
    );
    const total = (point: ReadonlyArray<number>) =>
      reference(point, rows, width).reduce((sum, value, r) => sum + weights[r]! * value, 0);
    expectClose(gradient!, finiteDifferences(total, logits), 1e-4, 1e-5);
    tf.dispose([x, w]);
  });

  it("gives log V for uniform logits of Qwen's vocabulary and matches float64 on random ones", async () => {
    const random = seededRandom(52);
    const logits = [
      ...new Array<number>(QWEN_VOCABULARY).fill(3),
      ...uniform(random, QWEN_VOCABULARY, -8, 8),
    ];
    const x = tf.tensor2d(logits, [2, QWEN_VOCABULARY]);
    const actual = await withoutLeaks(async () => await take(entropyFromLogits(x)));
    expectClose(actual, [Math.log(QWEN_VOCABULARY), entropy64(logits.slice(QWEN_VOCABULARY))], 1e-5);
    tf.dispose(x);
  });

  it("stays finite for ±1e4 logits and -inf masks (masked entries contribute 0)", async () => {
    const inf = Number.POSITIVE_INFINITY;
    const x = tf.tensor2d([1e4, 1e4, -inf, -1e4, -inf, 0, -inf, -inf, 1e4, -1e4, -1e4, -1e4], [3, 4]);
    const actual = await withoutLeaks(async () => await take(entropyFromLogits(x)));
    expectClose(actual, [Math.log(2), 0, 0], 1e-6, 1e-6);
    const [gradient] = await withoutLeaks(
      async () => await gradients((input) => tf.sum(entropyFromLogits(input as tf.Tensor2D)), [x]),
    );
    expect(gradient!.every(Number.isFinite)).toBe(true);
    tf.dispose(x);
  });

  it("rejects a vector with a typed error", async () => {
    const x = tf.zeros([4]);
    expect(() => entropyFromLogits(x as tf.Tensor2D)).toThrow(InvalidInputError);
    tf.dispose(x);
  });
});
