import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  addWithoutSaving,
  applyRotary,
  batchedMatMul,
  rmsNorm,
  rotateHalf,
  scaledMaskedSoftmax,
  silu,
  swiGlu,
} from "../../src/internal/model/ops.js";
import { testBackendNames, useBackend } from "./support/backend.js";
import { maxAbsDiff } from "./support/fixtures.js";

const values = (count: number, seed: number) =>
  Array.from({ length: count }, (_, i) => Math.sin(seed * 3.7 + i * 1.9) * 1.5);

/** Float64 central differences of `Σ f(x)·w` with respect to each entry of `x`. */
const finiteDifference = (f: (x: number[]) => number[], x: number[], w: number[], step = 1e-5): number[] =>
  x.map((_, index) => {
    const plus = [...x];
    const minus = [...x];
    plus[index]! += step;
    minus[index]! -= step;
    const dot = (y: number[]) => y.reduce((sum, value, j) => sum + value * w[j]!, 0);
    return (dot(f(plus)) - dot(f(minus))) / (2 * step);
  });

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** The gradient of `Σ op(inputs)·w` with respect to every input, and the forward value. */
const gradientsOf = (op: (...inputs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], w: tf.Tensor) => {
  const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => tf.sum(tf.mul(op(...xs), w)))(inputs);
  const forward = tf.tidy(() => op(...inputs));
  const result = { forward: forward.dataSync(), grads: grads.map((grad) => grad.dataSync()) };
  tf.dispose([value, forward, ...grads]);
  return result;
};

describe.each(testBackendNames)("custom-gradient model ops (%s)", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("swiGlu: the forward of silu(gate)·up, gradients match float64 finite differences and tfjs autodiff", () => {
    const shape = [3, 8];
    const [g, u, w] = [values(24, 1), values(24, 2), values(24, 3)];
    const before = tf.memory().numTensors;
    const [gate, up, weight] = [g, u, w].map((x) => tf.tensor2d(x, shape as [number, number]));
    const fused = gradientsOf((a, b) => swiGlu(a!, b!), [gate!, up!], weight!);
    const composite = gradientsOf((a, b) => tf.mul(silu(a!), b!), [gate!, up!], weight!);
    // Same forward ops: identical values.
    expect(maxAbsDiff(fused.forward, [...composite.forward])).toBe(0);
    const dGate = finiteDifference((x) => x.map((z, i) => z * sigmoid(z) * u[i]!), g, w);
    const dUp = finiteDifference((x) => x.map((value, i) => g[i]! * sigmoid(g[i]!) * value), u, w);
    expect(maxAbsDiff(fused.grads[0]!, dGate)).toBeLessThan(1e-4);
    expect(maxAbsDiff(fused.grads[1]!, dUp)).toBeLessThan(1e-4);
    expect(maxAbsDiff(fused.grads[0]!, [...composite.grads[0]!])).toBeLessThan(1e-6);
    expect(maxAbsDiff(fused.grads[1]!, [...composite.grads[1]!])).toBeLessThan(1e-6);
    tf.dispose([gate!, up!, weight!]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("applyRotary: gradient dy⊙cos + rotate_halfᵀ(dy⊙sin) matches finite differences and tfjs autodiff", () => {
    const [batch, heads, length, dim] = [2, 3, 4, 6];
    const size = batch * heads * length * dim;
    const [xv, wv] = [values(size, 4), values(size, 5)];
    const angles = values(batch * length * dim, 6);
    const cosv = angles.map(Math.cos);
    const sinv = angles.map(Math.sin);
    const before = tf.memory().numTensors;
    const x = tf.tensor4d(xv, [batch, heads, length, dim]);
    const w = tf.tensor4d(wv, [batch, heads, length, dim]);
    const cos = tf.tensor4d(cosv, [batch, 1, length, dim]);
    const sin = tf.tensor4d(sinv, [batch, 1, length, dim]);
    const fused = gradientsOf((a) => applyRotary(a!, cos, sin), [x], w);
    const composite = gradientsOf((a) => tf.add(tf.mul(a!, cos), tf.mul(rotateHalf(a!), sin)), [x], w);
    expect(maxAbsDiff(fused.forward, [...composite.forward])).toBe(0);
    const rotary = (input: number[]) =>
      input.map((value, index) => {
        const d = index % dim;
        const s = Math.floor(index / dim) % length;
        const b = Math.floor(index / (dim * length * heads));
        const table = (b * length + s) * dim + d;
        const base = index - d;
        const rotated = d < dim / 2 ? -input[base + d + dim / 2]! : input[base + d - dim / 2]!;
        return value * cosv[table]! + rotated * sinv[table]!;
      });
    expect(maxAbsDiff(fused.grads[0]!, finiteDifference(rotary, xv, wv))).toBeLessThan(1e-4);
    expect(maxAbsDiff(fused.grads[0]!, [...composite.grads[0]!])).toBeLessThan(1e-6);
    tf.dispose([x, w, cos, sin]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("scaledMaskedSoftmax: forward of softmax(s·c + mask), gradient matches finite differences and tfjs autodiff", () => {
    const [rows, columns] = [4, 5];
    const [sv, wv] = [values(rows * columns, 7), values(rows * columns, 8)];
    // A causal mask: row r sees columns ≤ r + 1.
    const maskv = Array.from({ length: rows * columns }, (_, i) =>
      i % columns <= Math.floor(i / columns) + 1 ? 0 : -1e9,
    );
    const scale = 0.35;
    const before = tf.memory().numTensors;
    const scores = tf.tensor2d(sv, [rows, columns]);
    const w = tf.tensor2d(wv, [rows, columns]);
    const mask = tf.tensor2d(maskv, [rows, columns]);
    const fused = gradientsOf((a) => scaledMaskedSoftmax(a!, scale, mask), [scores], w);
    const composite = gradientsOf((a) => tf.softmax(tf.add(tf.mul(a!, scale), mask)), [scores], w);
    expect(maxAbsDiff(fused.forward, [...composite.forward])).toBe(0);
    const softmax = (input: number[]) =>
      input.map((_, index) => {
        const row = Math.floor(index / columns);
        const logits = Array.from(
          { length: columns },
          (__, j) => input[row * columns + j]! * scale + maskv[row * columns + j]!,
        );
        const max = Math.max(...logits);
        const total = logits.reduce((sum, logit) => sum + Math.exp(logit - max), 0);
        return Math.exp(logits[index % columns]! - max) / total;
      });
    expect(maxAbsDiff(fused.grads[0]!, finiteDifference(softmax, sv, wv))).toBeLessThan(1e-4);
    expect(maxAbsDiff(fused.grads[0]!, [...composite.grads[0]!])).toBeLessThan(1e-6);
    // Masked entries get no gradient.
    fused.grads[0]!.forEach((value, index) => {
      if (maskv[index] !== 0) expect(value).toBe(0);
    });
    tf.dispose([scores, w, mask]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rmsNorm: gradients in x and weight match float64 finite differences and tfjs autodiff", () => {
    const [rows, width, eps] = [3, 6, 1e-6];
    const [xv, wv, sv] = [values(rows * width, 9), values(rows * width, 10), values(width, 11)];
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(xv, [rows, width]);
    const w = tf.tensor2d(wv, [rows, width]);
    const scale = tf.tensor1d(sv);
    const fused = gradientsOf((a, b) => rmsNorm(a!, b!, eps), [x, scale], w);
    const composite = gradientsOf(
      (a, b) => tf.mul(b!, tf.mul(a!, tf.rsqrt(tf.add(tf.mean(tf.square(a!), -1, true), eps)))),
      [x, scale],
      w,
    );
    expect(maxAbsDiff(fused.forward, [...composite.forward])).toBe(0);
    const norm = (input: number[], weights: number[]) =>
      input.map((value, index) => {
        const row = Math.floor(index / width);
        const slice = input.slice(row * width, (row + 1) * width);
        const mean = slice.reduce((sum, v) => sum + v * v, 0) / width;
        return (value / Math.sqrt(mean + eps)) * weights[index % width]!;
      });
    expect(
      maxAbsDiff(
        fused.grads[0]!,
        finiteDifference((input) => norm(input, sv), xv, wv),
      ),
    ).toBeLessThan(1e-4);
    expect(
      maxAbsDiff(
        fused.grads[1]!,
        finiteDifference((weights) => norm(xv, weights), sv, wv),
      ),
    ).toBeLessThan(1e-4);
    expect(maxAbsDiff(fused.grads[0]!, [...composite.grads[0]!])).toBeLessThan(1e-5);
    expect(maxAbsDiff(fused.grads[1]!, [...composite.grads[1]!])).toBeLessThan(1e-5);
    tf.dispose([x, w, scale]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("addWithoutSaving: a broadcast sum whose gradients equal tfjs' add's", () => {
    const before = tf.memory().numTensors;
    const a = tf.tensor3d(values(24, 12), [2, 3, 4]);
    const bias = tf.tensor1d(values(4, 13));
    const w = tf.tensor3d(values(24, 14), [2, 3, 4]);
    const fused = gradientsOf((x, y) => addWithoutSaving(x!, y!), [a, bias], w);
    const composite = gradientsOf((x, y) => tf.add(x!, y!), [a, bias], w);
    expect(maxAbsDiff(fused.forward, [...composite.forward])).toBe(0);
    expect(maxAbsDiff(fused.grads[0]!, [...composite.grads[0]!])).toBe(0);
    // d bias = Σ over the 6 rows of w.
    const wv = values(24, 14);
    const expected = Array.from({ length: 4 }, (_, j) =>
      Array.from({ length: 6 }, (__, row) => wv[row * 4 + j]!).reduce((sum, v) => sum + v, 0),
    );
    expect(maxAbsDiff(fused.grads[1]!, expected)).toBeLessThan(1e-5);
    tf.dispose([a, bias, w]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([
    [false, [2, 3, 4, 5], [2, 3, 5, 6]],
    [true, [2, 3, 4, 5], [2, 3, 6, 5]],
  ] as const)(
    "batchedMatMul (transposeB %s): product and gradients equal tf.matMul's",
    (transposeB, shapeA, shapeB) => {
      const before = tf.memory().numTensors;
      const size = (shape: ReadonlyArray<number>) => shape.reduce((x, y) => x * y, 1);
      const a = tf.tensor(values(size(shapeA), 15), [...shapeA]);
      const b = tf.tensor(values(size(shapeB), 16), [...shapeB]);
      const outShape = [2, 3, 4, 6];
      const w = tf.tensor(values(size(outShape), 17), outShape);
      const fused = gradientsOf((x, y) => batchedMatMul(x!, y!, transposeB), [a, b], w);
      const composite = gradientsOf((x, y) => tf.matMul(x!, y!, false, transposeB), [a, b], w);
      expect(maxAbsDiff(fused.forward, [...composite.forward])).toBeLessThan(1e-5);
      expect(maxAbsDiff(fused.grads[0]!, [...composite.grads[0]!])).toBeLessThan(1e-5);
      expect(maxAbsDiff(fused.grads[1]!, [...composite.grads[1]!])).toBeLessThan(1e-5);
      tf.dispose([a, b, w]);
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});
