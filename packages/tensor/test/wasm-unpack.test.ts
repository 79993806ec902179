import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { initBackend } from "../src/index.js";

/** `values` (row-major `shape`) split along `axis` by index arithmetic: the independent expectation. */
const unstackByHand = (values: ReadonlyArray<number>, shape: ReadonlyArray<number>, axis: number) => {
  const strides = tf.util.computeStrides(shape as number[]);
  const outputs: number[][] = Array.from({ length: shape[axis]! }, () => []);
  values.forEach((value, flat) => {
    let rest = flat;
    const index = shape.map((_, dimension) => {
      const stride = dimension === shape.length - 1 ? 1 : strides[dimension]!;
      const coordinate = Math.floor(rest / stride);
      rest -= coordinate * stride;
      return coordinate;
    });
    outputs[index[axis]!]!.push(value);
  });
  return outputs;
};

describe("unstack on wasm reads its input in place", () => {
  beforeAll(async () => {
    await initBackend("wasm");
  });

  it.each([
    { shape: [3, 4, 5], axis: 0 },
    { shape: [3, 4, 5], axis: 1 },
    { shape: [3, 4, 5], axis: 2 },
    { shape: [3, 4, 5], axis: -1 },
    { shape: [7], axis: 0 },
    { shape: [2, 1, 6], axis: 1 },
    { shape: [4, 0, 2], axis: 0 },
  ])(
    "splits $shape along axis $axis like index arithmetic, for float32, int32 and bool",
    ({ shape, axis }) => {
      const size = shape.reduce((product, extent) => product * extent, 1);
      const floats = Array.from({ length: size }, (_, index) => Math.sin(index) * 10);
      const ints = Array.from({ length: size }, (_, index) => (index * 37) % 101);
      const bools = Array.from({ length: size }, (_, index) => (index % 3 === 0 ? 1 : 0));
      const before = tf.memory().numTensors;
      const backend = tf.backend();
      const readSync = vi.spyOn(backend, "readSync");
      for (const [dtype, values] of [
        ["float32", floats],
        ["int32", ints],
        ["bool", bools],
      ] as const) {
        const input = tf.tensor(values, shape, dtype);
        const parts = tf.unstack(input, axis);
        const positive = axis < 0 ? axis + shape.length : axis;
        const expected = unstackByHand(
          dtype === "float32" ? Array.from(new Float32Array(values)) : values,
          shape,
          positive,
        );
        expect(readSync).not.toHaveBeenCalled();
        expect(parts).toHaveLength(shape[positive]!);
        parts.forEach((part, index) => {
          expect(part.shape).toEqual(shape.filter((_, dimension) => dimension !== positive));
          expect(part.dtype).toBe(dtype);
          expect(Array.from(part.dataSync())).toEqual(expected[index]);
        });
        tf.dispose([input, ...parts]);
        readSync.mockClear();
      }
      readSync.mockRestore();
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it("keeps unstack's gradient (a stack of the upstream parts)", () => {
    const x = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const gradient = tf.grad((input: tf.Tensor) => {
      const [first, second] = tf.unstack(input, 1);
      return tf.add(tf.sum(tf.mul(first!, 3)), tf.sum(tf.mul(second!, second!)));
    })(x);
    // d/dx of 3·x[:,0] + x[:,1]²: column 0 → 3, column 1 → 2·x, column 2 → 0.
    expect(Array.from(gradient.dataSync())).toEqual([3, 4, 0, 3, 10, 0]);
    tf.dispose([x, gradient]);
  });
});
