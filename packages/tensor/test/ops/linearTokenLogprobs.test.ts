import { InvalidInputError } from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { chunkAdditions } from "../../src/internal/ops/assembleRows.js";
import { linearTokenLogprobs } from "../../src/ops/linearTokenLogprobs.js";
import {
  entropy64,
  expectClose,
  finiteDifferences,
  gradients,
  integers,
  logSumExp64,
  opsBackends,
  seededRandom,
  take,
  uniform,
  useBackend,
  withoutLeaks,
} from "./support.js";

const QWEN_VOCABULARY = 151_936;

interface Problem {
  readonly tokens: number;
  readonly hiddenSize: number;
  readonly vocabulary: number;
  readonly targets: Array<number>;
}

/** Float64 logits of one token: `hidden_n · w_v` for every `v`. */
const logitsRow = (
  hidden: ReadonlyArray<number>,
  weight: ReadonlyArray<number>,
  problem: Problem,
  n: number,
) => {
  const { hiddenSize, vocabulary } = problem;
  const values = new Array<number>(vocabulary);
  for (let v = 0; v < vocabulary; v++) {
    let dot = 0;
    for (let h = 0; h < hiddenSize; h++) dot += hidden[n * hiddenSize + h]! * weight[v * hiddenSize + h]!;
    values[v] = dot;
  }
  return values;
};

/** Float64 reference: per-token log-prob of the target and entropy of `softmax(hidden · weightᵀ)`. */
const reference = (hidden: ReadonlyArray<number>, weight: ReadonlyArray<number>, problem: Problem) =>
  problem.targets.map((target, n) => {
    const row = logitsRow(hidden, weight, problem, n);
    return { logprob: row[target]! - logSumExp64(row), entropy: entropy64(row) };
  });

/** Float64 scalar `Σ a_n logprob_n + b_n entropy_n`. */
const objective =
  (problem: Problem, a: ReadonlyArray<number>, b: ReadonlyArray<number>) =>
  (hidden: ReadonlyArray<number>, weight: ReadonlyArray<number>) =>
    reference(hidden, weight, problem).reduce(
      (sum, { logprob, entropy }, n) => sum + a[n]! * logprob + b[n]! * entropy,
      0,
    );

describe.each(await opsBackends())("linearTokenLogprobs on %s", (backend) => {
  beforeAll(() => useBackend(backend));

  const random = seededRandom(41);
  const small: Problem = { tokens: 7, hiddenSize: 5, vocabulary: 11, targets: [0, 10, 3, 7, 5, 2, 9] };
  const hiddenValues = uniform(random, 7 * 5, -1.5, 1.5);
  const weightValues = uniform(random, 11 * 5, -1.5, 1.5);

  it("matches the float64 log-prob and entropy of the projected logits for every chunk size", async () => {
    const expected = reference(hiddenValues, weightValues, small);
    const hidden = tf.tensor2d(hiddenValues, [7, 5]);
    const weight = tf.tensor2d(weightValues, [11, 5]);
    const targets = tf.tensor1d(small.targets, "int32");
    for (const chunkSize of [1, 3, 7, 50]) {
      const logprobs = await withoutLeaks(
        async () => await take(linearTokenLogprobs(hidden, weight, targets, { chunkSize })),
      );
      expectClose(
        logprobs,
        expected.map(({ logprob }) => logprob),
        1e-5,
        1e-5,
      );
      const both = await withoutLeaks(async () => {
        const out = linearTokenLogprobs(hidden, weight, targets, { chunkSize, entropy: true });
        return { logprobs: await take(out.logprobs), entropy: await take(out.entropy) };
      });
      expectClose(
        both.logprobs,
        expected.map(({ logprob }) => logprob),
        1e-5,
        1e-5,
      );
      expectClose(
        both.entropy,
        expected.map(({ entropy }) => entropy),
        1e-5,
        1e-5,
      );
    }
    tf.dispose([hidden, weight, targets]);
  });

  /**
   * ∂/∂hidden and ∂/∂weight of `Σ a·logprob (+ Σ b·entropy)` against float64 central differences;
   * without `b` the op runs without entropy.
   */
  const expectFloat64Gradients = async (
    problem: Problem,
    a: ReadonlyArray<number>,
    b: ReadonlyArray<number> | undefined,
    chunkSize: number,
  ) => {
    const hidden = tf.tensor2d(hiddenValues, [7, 5]);
    const weight = tf.tensor2d(weightValues, [11, 5]);
    const targets = tf.tensor1d(problem.targets, "int32");
    const [ta, tb] = [tf.tensor1d([...a]), tf.tensor1d([...(b ?? a)])];
    const [gradHidden, gradWeight] = await withoutLeaks(
      async () =>
        await gradients(
          (h, w) => {
            const [h2, w2] = [h as tf.Tensor2D, w as tf.Tensor2D];
            if (b === undefined)
              return tf.sum(tf.mul(linearTokenLogprobs(h2, w2, targets, { chunkSize }), ta));
            const out = linearTokenLogprobs(h2, w2, targets, { chunkSize, entropy: true });
            return tf.add(tf.sum(tf.mul(out.logprobs, ta)), tf.sum(tf.mul(out.entropy, tb)));
          },
          [hidden, weight],
        ),
    );
    const f = objective(problem, a, b ?? new Array<number>(a.length).fill(0));
    expectClose(
      gradHidden!,
      finiteDifferences((h) => f(h, weightValues), hiddenValues),
      1e-4,
      1e-5,
    );
    expectClose(
      gradWeight!,
      finiteDifferences((w) => f(hiddenValues, w), weightValues),
      1e-4,
      1e-5,
    );
    tf.dispose([hidden, weight, targets, ta, tb]);
  };

  it.each([1, 2, 7])(
    "has the float64 gradient in hidden and weight, through log-prob and entropy (chunkSize %i)",
    async (chunkSize) => {
      const a = uniform(random, 7, -1, 1);
      await expectFloat64Gradients(small, a, uniform(random, 7, -1, 1), chunkSize);
      // Without entropy the gradient is that of the log-prob alone.
      await expectFloat64Gradients(small, a, undefined, chunkSize);
    },
  );

  it.each([
    { chunkSize: 1, entropy: false },
    { chunkSize: 2, entropy: true },
    { chunkSize: 7, entropy: false },
  ])(
    "adds the target rows of repeated targets to the weight gradient (chunkSize $chunkSize, entropy $entropy)",
    async ({ chunkSize, entropy }) => {
      // Targets repeat (3 three times, 7 twice) and sit at both ends of the vocabulary.
      const repeated: Problem = { ...small, targets: [3, 3, 0, 10, 3, 7, 7] };
      const a = uniform(random, 7, -1, 1);
      await expectFloat64Gradients(repeated, a, entropy ? uniform(random, 7, -1, 1) : undefined, chunkSize);
    },
  );

  it("splits sparse row additions over chunks as device backends add them (chunkAdditions)", async () => {
    // result[indices[m]] += rows[m] over 9 rows of width 2, in chunks [0, 4), [4, 8), [8, 9).
    const indices = [8, 0, 3, 4, 3, 8, 7];
    const rowValues = indices.map((_, m) => [m + 1, -(m + 1) / 2]);
    const expected = new Array<number>(9 * 2).fill(0);
    indices.forEach((index, m) => {
      expected[index * 2]! += rowValues[m]![0]!;
      expected[index * 2 + 1]! += rowValues[m]![1]!;
    });
    const actual = await withoutLeaks(async () =>
      take(
        tf.tidy(() => {
          const additions = {
            indices: tf.tensor1d(indices, "int32"),
            rows: tf.tensor2d(rowValues.flat(), [indices.length, 2]),
          };
          const parts = [
            { start: 0, size: 4 },
            { start: 4, size: 4 },
            { start: 8, size: 1 },
          ].map((chunk) => chunkAdditions(additions, chunk));
          expect(parts.map((part) => part.shape)).toEqual([
            [4, 2],
            [4, 2],
            [1, 2],
          ]);
          return tf.concat(parts, 0);
        }),
      ),
    );
    expectClose(actual, expected, 0, 0);
  });

  it.each([false, true])(
    "with weightGradient: false gives the same hidden gradient and no weight gradient (entropy %s)",
    async (entropy) => {
      const a = uniform(random, 7, -1, 1);
      const b = uniform(random, 7, -1, 1);
      const hidden = tf.tensor2d(hiddenValues, [7, 5]);
      const weight = tf.variable(tf.tensor2d(weightValues, [11, 5]), true);
      const scale = tf.variable(tf.scalar(1), true);
      const targets = tf.tensor1d(small.targets, "int32");
      const [ta, tb] = [tf.tensor1d(a), tf.tensor1d(b)];
      const loss = (h: tf.Tensor): tf.Scalar => {
        const options = { chunkSize: 2, weightGradient: false } as const;
        if (!entropy)
          return tf.sum(tf.mul(linearTokenLogprobs(h as tf.Tensor2D, weight, targets, options), ta));
        const out = linearTokenLogprobs(h as tf.Tensor2D, weight, targets, { ...options, entropy: true });
        return tf.add(tf.sum(tf.mul(out.logprobs, ta)), tf.sum(tf.mul(out.entropy, tb)));
      };
      const [gradHidden] = await withoutLeaks(async () => await gradients(loss, [hidden]));
      const f = objective(small, a, entropy ? b : new Array(7).fill(0));
      expectClose(
        gradHidden!,
        finiteDifferences((h) => f(h, weightValues), hiddenValues),
        1e-4,
        1e-5,
      );
      // Even a trainable weight gets no gradient: it is not on the tape (only `scale` is).
      const { grads } = await withoutLeaks(async () => {
        const result = tf.variableGrads(() => loss(tf.mul(hidden, scale)), [weight, scale]);
        const names = Object.keys(result.grads);
        tf.dispose([result.value, ...Object.values(result.grads)]);
        return { grads: names };
      });
      expect(grads).toEqual([scale.name]);
      tf.dispose([hidden, weight, scale, targets, ta, tb]);
    },
  );

  it("handles Qwen's vocabulary (V = 151,936) in value and gradient at small N", async () => {
    const problem: Problem = {
      tokens: 3,
      hiddenSize: 4,
      vocabulary: QWEN_VOCABULARY,
      targets: [151_935, 0, 77_777],
    };
    const hiddenData = uniform(random, 3 * 4, -1, 1);
    const weightData = uniform(random, QWEN_VOCABULARY * 4, -2, 2);
    const hidden = tf.tensor2d(hiddenData, [3, 4]);
    const weight = tf.tensor2d(weightData, [QWEN_VOCABULARY, 4]);
    const targets = tf.tensor1d(problem.targets, "int32");
    const expected = reference(hiddenData, weightData, problem);
    const values = await withoutLeaks(async () => await take(linearTokenLogprobs(hidden, weight, targets)));
    expectClose(
      values,
      expected.map(({ logprob }) => logprob),
      1e-5,
      1e-5,
    );
    const a = [1, -0.5, 2];
    const ta = tf.tensor1d(a);
    const [gradHidden, gradWeight] = await withoutLeaks(
      async () =>
        await gradients(
          (h, w) =>
            tf.sum(
              tf.mul(linearTokenLogprobs(h as tf.Tensor2D, w as tf.Tensor2D, targets, { chunkSize: 2 }), ta),
            ),
          [hidden, weight],
        ),
    );
    const f = objective(problem, a, [0, 0, 0]);
    expectClose(
      gradHidden!,
      finiteDifferences((h) => f(h, weightData), hiddenData, undefined, 1e-4),
      1e-3,
      1e-6,
    );
    // Weight rows of the three targets and a few others.
    const probe = [151_935 * 4, 151_935 * 4 + 3, 1, 77_777 * 4 + 2, 5_000 * 4, 120_000 * 4 + 1];
    expectClose(
      probe.map((index) => gradWeight![index]!),
      finiteDifferences((w) => f(hiddenData, w), weightData, probe, 1e-4),
      1e-3,
      1e-7,
    );
    tf.dispose([hidden, weight, targets, ta]);
  });

  it("keeps at most a few chunks of logits alive: far below the naive path's peak", async () => {
    const [tokens, hiddenSize, vocabulary, chunkSize] = [64, 8, 4096, 4];
    const hidden = tf.randomNormal([tokens, hiddenSize], 0, 1, "float32", 1) as tf.Tensor2D;
    const weight = tf.randomNormal([vocabulary, hiddenSize], 0, 1, "float32", 2) as tf.Tensor2D;
    const targets = tf.tensor1d(integers(random, tokens, vocabulary), "int32");
    const extraPeak = async (loss: (h: tf.Tensor2D, w: tf.Tensor2D) => tf.Scalar) => {
      const info = await tf.profile(() =>
        tf.grads((h, w) => loss(h as tf.Tensor2D, w as tf.Tensor2D))([hidden, weight]),
      );
      tf.dispose(info.result);
      return info.peakBytes - tf.memory().numBytes;
    };
    const fused = await extraPeak((h, w) => tf.sum(linearTokenLogprobs(h, w, targets, { chunkSize })));
    const naive = await extraPeak((h, w) =>
      tf.sum(
        tf.mul(tf.logSoftmax(tf.matMul(h, w, false, true)), tf.oneHot(targets, vocabulary, 1, 0, "float32")),
      ),
    );
    const logitsBytes = tokens * vocabulary * 4;
    expect(naive).toBeGreaterThan(2 * logitsBytes);
    expect(fused).toBeLessThan(0.5 * logitsBytes);
    tf.dispose([hidden, weight, targets]);
  });

  it("rejects a weight not laid out [V, H] and bad targets with a typed error", async () => {
    const hidden = tf.zeros([2, 3]) as tf.Tensor2D;
    const transposed = tf.zeros([3, 5]) as tf.Tensor2D;
    const weight = tf.zeros([5, 3]) as tf.Tensor2D;
    const targets = tf.tensor1d([0, 5], "int32");
    expect(() => linearTokenLogprobs(hidden, transposed, targets)).toThrow(InvalidInputError);
    expect(() => linearTokenLogprobs(hidden, transposed, targets)).toThrow(/lm_head/);
    expect(() => linearTokenLogprobs(hidden, weight, targets)).toThrow(/targets\[1\]/);
    tf.dispose([hidden, transposed, weight, targets]);
  });
});
