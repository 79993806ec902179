/**
 * Test support for the ops suite: which backends to run on, seeded random data, float64 helpers,
 * central finite differences and a leak check.
 */
import * as tf from "@tensorflow/tfjs-core";
import { expect } from "vitest";
import { type BackendName, initBackend, testBackends } from "../../src/index.js";

/** Backends the ops suite runs on: every backend usable here (wasm and cpu at least). */
export const opsBackends = (): Promise<ReadonlyArray<BackendName>> => testBackends();

/** Make `name` the active backend (gradients registered, missing wasm kernels provided). */
export const useBackend = async (name: BackendName): Promise<void> => {
  await initBackend(name);
};

/** A small deterministic generator (mulberry32) so every run sees the same numbers. */
export const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** `count` uniform values in `[low, high)`, rounded to float32 so the float64 reference sees the same inputs. */
export const uniform = (random: () => number, count: number, low: number, high: number): Array<number> =>
  Array.from({ length: count }, () => Math.fround(low + (high - low) * random()));

/** `count` integers in `[0, bound)`. */
export const integers = (random: () => number, count: number, bound: number): Array<number> =>
  Array.from({ length: count }, () => Math.floor(random() * bound));

/** Row `r` of a row-major `[rows, width]` array. */
export const row = (values: ReadonlyArray<number>, width: number, r: number): ReadonlyArray<number> =>
  values.slice(r * width, (r + 1) * width);

/** Float64 log-sum-exp of a list (shifted by its maximum). */
export const logSumExp64 = (values: ReadonlyArray<number>): number => {
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) if (value > max) max = value;
  if (max === Number.NEGATIVE_INFINITY) return Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const value of values) sum += Math.exp(value - max);
  return max + Math.log(sum);
};

/** Float64 entropy `-Σ p log p` of the softmax of a list. */
export const entropy64 = (values: ReadonlyArray<number>): number => {
  const lse = logSumExp64(values);
  let entropy = 0;
  for (const value of values) {
    if (value === Number.NEGATIVE_INFINITY) continue;
    const logp = value - lse;
    entropy -= Math.exp(logp) * logp;
  }
  return entropy;
};

/**
 * Central finite differences of a float64 scalar function at `point`: `(f(x + h·e_i) - f(x - h·e_i)) / 2h`
 * for each index `i` in `indices` (default: all).
 */
export const finiteDifferences = (
  f: (point: ReadonlyArray<number>) => number,
  point: ReadonlyArray<number>,
  indices: ReadonlyArray<number> = point.map((_, index) => index),
  step = 1e-6,
): Array<number> =>
  indices.map((index) => {
    const up = point.slice();
    const down = point.slice();
    up[index] = point[index]! + step;
    down[index] = point[index]! - step;
    return (f(up) - f(down)) / (2 * step);
  });

/** Assert `actual` matches `expected` element-wise within `absolute + relative·|expected|`. */
export const expectClose = (
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  relative = 1e-5,
  absolute = 1e-6,
): void => {
  expect(actual.length).toBe(expected.length);
  for (let index = 0; index < expected.length; index++) {
    const want = expected[index]!;
    const got = actual[index]!;
    if (!Number.isFinite(want)) {
      expect(got, `element ${index}`).toBe(want);
      continue;
    }
    const tolerance = absolute + relative * Math.abs(want);
    if (!(Math.abs(got - want) <= tolerance)) {
      expect.fail(`element ${index}: got ${got}, expected ${want} (tolerance ${tolerance})`);
    }
  }
};

/**
 * Run `body` (which must dispose every tensor it makes and return plain data) and assert the number
 * of live tensors is what it was before: the op, and its gradient, leaked nothing. Async: values are
 * read back with `data()` (webgpu has no synchronous read).
 */
export const withoutLeaks = async <T>(body: () => T | Promise<T>): Promise<T> => {
  const before = tf.memory().numTensors;
  const result = await body();
  expect(tf.memory().numTensors, "live tensors after the op").toBe(before);
  return result;
};

/**
 * Gradients of the scalar `f(inputs)` with respect to each input, read back as plain arrays (the
 * gradient tensors are disposed).
 */
export const gradients = (
  f: (...inputs: Array<tf.Tensor>) => tf.Scalar,
  inputs: Array<tf.Tensor>,
): Promise<Array<Array<number>>> => Promise.all(tf.grads(f)(inputs).map(take));

/** Read a tensor back as a plain array (asynchronously: every backend has it) and dispose it. */
export const take = async (tensor: tf.Tensor): Promise<Array<number>> => {
  const values = Array.from(await tensor.data());
  tensor.dispose();
  return values;
};
