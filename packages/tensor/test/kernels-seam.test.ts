import * as tf from "@tensorflow/tfjs-core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  defineKernelOp,
  fastKernelFor,
  initBackend,
  kernelMode,
  registerFastKernel,
  setKernelMode,
  testBackends,
  withReferenceKernels,
} from "../src/index.js";

const calls: Array<string> = [];
/** Reference: Σ_j x[i, j]², composed from tfjs ops. */
const rowSquareSum = defineKernelOp("test.rowSquareSum", (x: tf.Tensor2D): tf.Tensor1D => {
  calls.push("reference");
  return tf.tidy(() => tf.sum(tf.square(x), 1));
});
/** A different route to the same numbers, standing in for a fused kernel. */
const viaEinsum = (x: tf.Tensor2D): tf.Tensor1D => {
  calls.push("fast");
  return tf.einsum("ij,ij->i", x, x) as tf.Tensor1D;
};

const unregisters: Array<() => void> = [];
afterEach(() => {
  for (const unregister of unregisters.splice(0)) unregister();
  calls.length = 0;
  setKernelMode("fast");
});

describe.each(await testBackends())("kernel seam on %s", (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it("uses the reference when no fast kernel is registered for the active backend", async () => {
    const other = backend === "cpu" ? "wasm" : "cpu";
    unregisters.push(registerFastKernel("test.rowSquareSum", other, viaEinsum));
    const sums = tf.tidy(() =>
      rowSquareSum(
        tf.tensor2d([
          [1, 2],
          [3, 4],
        ]),
      ),
    );
    const result = await sums.array();
    sums.dispose();
    expect(result).toEqual([5, 25]);
    expect(calls).toEqual(["reference"]);
    expect(fastKernelFor("test.rowSquareSum")).toBeUndefined();
  });

  it("dispatches to the fast kernel, which agrees with the reference; withReferenceKernels forces the reference", async () => {
    unregisters.push(registerFastKernel("test.rowSquareSum", tf.getBackend(), viaEinsum));
    const before = tf.memory().numTensors;
    const input = tf.tensor2d([
      [0.5, -1.5, 2],
      [3, 0.25, -4],
    ]);
    const fast = rowSquareSum(input);
    const reference = withReferenceKernels(() => rowSquareSum(input));
    const direct = rowSquareSum.reference(input);
    expect(calls).toEqual(["fast", "reference", "reference"]);
    const expected = [0.25 + 2.25 + 4, 9 + 0.0625 + 16];
    for (const result of [fast, reference, direct]) {
      const values = Array.from(await result.data());
      for (const [index, value] of values.entries()) expect(value).toBeCloseTo(expected[index] as number, 5);
    }
    tf.dispose([input, fast, reference, direct]);
    expect(tf.memory().numTensors).toBe(before);
    expect(kernelMode()).toBe("fast");
  });

  it("restores the mode after an async body and after a throw; unregistering restores the reference", async () => {
    const unregister = registerFastKernel("test.rowSquareSum", tf.getBackend(), viaEinsum);
    await withReferenceKernels(async () => {
      expect(kernelMode()).toBe("reference");
      await Promise.resolve();
    });
    expect(kernelMode()).toBe("fast");
    expect(() =>
      withReferenceKernels(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(kernelMode()).toBe("fast");
    unregister();
    tf.tidy(() => rowSquareSum(tf.ones([1, 3]) as tf.Tensor2D));
    expect(calls).toEqual(["reference"]);
  });
});
