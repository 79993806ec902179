import { InvalidInputError } from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { tokenLogprobs } from "../../src/ops/tokenLogprobs.js";
import {
  expectClose,
  finiteDifferences,
  gradients,
  integers,
  logSumExp64,
  opsBackends,
  row,
  seededRandom,
  take,
  uniform,
  useBackend,
  withoutLeaks,
} from "./support.js";

const QWEN_VOCABULARY = 151_936;

/** Float64 reference: `x[n, t_n] - logsumexp(x[n, :])`. */
const reference = (
  logits: ReadonlyArray<number>,
  targets: ReadonlyArray<number>,
  width: number,
): Array<number> =>
  targets.map((target, n) => {
    const values = row(logits, width, n);
    return values[target]! - logSumExp64(values);
  });

/** Float64 reference of the scalar `Σ_n w_n · logprob_n`. */
const weightedReference =
  (targets: ReadonlyArray<number>, width: number, weights: ReadonlyArray<number>) =>
  (logits: ReadonlyArray<number>): number =>
    reference(logits, targets, width).reduce((sum, value, n) => sum + weights[n]! * value, 0);

describe.each(await opsBackends())("tokenLogprobs on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  it("matches the float64 log-softmax at the target for every chunk size", async () => {
    const random = seededRandom(1);
    const [rows, width] = [7, 50];
    const logits = uniform(random, rows * width, -8, 8);
    const targets = integers(random, rows, width);
    const expected = reference(logits, targets, width);
    const x = tf.tensor2d(logits, [rows, width]);
    const t = tf.tensor1d(targets, "int32");
    for (const chunkSize of [1, 3, 7, 100]) {
      const actual = await withoutLeaks(async () => await take(tokenLogprobs(x, t, { chunkSize })));
      expectClose(actual, expected, 1e-5, 1e-5);
    }
    tf.dispose([x, t]);
  });

  it("has the gradient of the float64 reference (central differences)", async () => {
    const random = seededRandom(2);
    const [rows, width] = [5, 6];
    const logits = uniform(random, rows * width, -3, 3);
    const targets = integers(random, rows, width);
    const weights = uniform(random, rows, -1, 1);
    const x = tf.tensor2d(logits, [rows, width]);
    const t = tf.tensor1d(targets, "int32");
    const w = tf.tensor1d(weights);
    const [actual] = await withoutLeaks(
      async () =>
        await gradients(
          (input) => tf.sum(tf.mul(tokenLogprobs(input as tf.Tensor2D, t, { chunkSize: 2 }), w)),
          [x],
        ),
    );
    expectClose(actual!, finiteDifferences(weightedReference(targets, width, weights), logits), 1e-4, 1e-5);
    tf.dispose([x, t, w]);
  });

  it("handles Qwen's vocabulary (V = 151,936) in value and gradient", async () => {
    const random = seededRandom(3);
    const rows = 3;
    const logits = uniform(random, rows * QWEN_VOCABULARY, -6, 6);
    const targets = integers(random, rows, QWEN_VOCABULARY);
    const weights = [0.5, -1, 2];
    const x = tf.tensor2d(logits, [rows, QWEN_VOCABULARY]);
    const t = tf.tensor1d(targets, "int32");
    const w = tf.tensor1d(weights);
    const values = await withoutLeaks(async () => await take(tokenLogprobs(x, t)));
    expectClose(values, reference(logits, targets, QWEN_VOCABULARY), 1e-5, 1e-5);
    const [gradient] = await withoutLeaks(
      async () =>
        await gradients(
          (input) => tf.sum(tf.mul(tokenLogprobs(input as tf.Tensor2D, t, { chunkSize: 2 }), w)),
          [x],
        ),
    );
    const probe = [targets[0]!, 17, QWEN_VOCABULARY + targets[1]!, 2 * QWEN_VOCABULARY + 151_935];
    const expected = finiteDifferences(
      weightedReference(targets, QWEN_VOCABULARY, weights),
      logits,
      probe,
      1e-3,
    );
    expectClose(
      probe.map((index) => gradient![index]!),
      expected,
      1e-3,
      1e-7,
    );
    tf.dispose([x, t, w]);
  });

  it("stays finite for logits of ±1e4 and -inf masks, and is -inf only for a masked target", async () => {
    const inf = Number.POSITIVE_INFINITY;
    const logits = [1e4, -1e4, 0, -inf, -1e4, -1e4, -1e4, -1e4, -1e4, 1e4, 1e4, -inf, 5, -inf, 1, 2];
    const targets = [0, 1, 0, 1];
    const x = tf.tensor2d(logits, [4, 4]);
    const t = tf.tensor1d(targets, "int32");
    const values = await withoutLeaks(async () => await take(tokenLogprobs(x, t)));
    expectClose(values, [0, Math.log(0.25), -2e4 - Math.log(2), -inf], 1e-6, 1e-6);
    const [gradient] = await withoutLeaks(
      async () =>
        await gradients((input) => tf.sum(tf.slice(tokenLogprobs(input as tf.Tensor2D, t), [0], [3])), [x]),
    );
    expect(gradient!.every(Number.isFinite)).toBe(true);
    // d/dx of log p(target) = onehot - softmax: row 0 puts all mass on its target.
    expectClose(gradient!.slice(0, 4), [0, 0, 0, 0]);
    expectClose(gradient!.slice(4, 8), [-0.25, 0.75, -0.25, -0.25]);
    expectClose(gradient!.slice(8, 12), [1, -0.5, -0.5, 0]);
    tf.dispose([x, t]);
  });

  it("rejects targets outside the vocabulary and misshapen inputs with a typed error", async () => {
    const x = tf.zeros([3, 4]) as tf.Tensor2D;
    const bad = tf.tensor1d([0, 4, 1], "int32");
    const floats = tf.tensor1d([0, 1, 1], "float32");
    const short = tf.tensor1d([0, 1], "int32");
    expect(() => tokenLogprobs(x, bad)).toThrow(InvalidInputError);
    expect(() => tokenLogprobs(x, bad)).toThrow(/targets\[1\].*token id 4/);
    expect(() => tokenLogprobs(x, floats as tf.Tensor1D)).toThrow(/int32/);
    expect(() => tokenLogprobs(x, short)).toThrow(/expected shape \[3\]/);
    const good = tf.tensor1d([0, 1, 3], "int32");
    expect(() => tokenLogprobs(x, good, { chunkSize: 0 })).toThrow(/chunkSize/);
    expect(() => tokenLogprobs(x, good, { chunkSize: 1.5 })).toThrow(/chunkSize/);
    tf.dispose([x, bad, floats, short, good]);
  });
});
