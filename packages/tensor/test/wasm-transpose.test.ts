import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/index.js";
import { simdTransposeModuleBytes } from "../src/internal/backend-kernels/simdTransposeModule.js";
import { simdTransposeRuns } from "../src/internal/backend-kernels/transposeWasm.js";
import { webAssemblyApi } from "../src/internal/backend-kernels/webAssemblyApi.js";

const wasm = webAssemblyApi()!;

/** `values` (row-major `[batch…, rows, columns]`) with its last two axes swapped by index arithmetic. */
const swapByHand = (values: ArrayLike<number>, shape: ReadonlyArray<number>): Array<number> => {
  const rows = shape[shape.length - 2]!;
  const columns = shape[shape.length - 1]!;
  const matrix = rows * columns;
  const out = new Array<number>(values.length);
  for (let start = 0; start < values.length; start += matrix) {
    for (let row = 0; row < rows; row++) {
      for (let column = 0; column < columns; column++) {
        out[start + column * rows + row] = values[start + row * columns + column]!;
      }
    }
  }
  return out;
};

const swapLast = (rank: number) => {
  const perm = Array.from({ length: rank }, (_, axis) => axis);
  [perm[rank - 1], perm[rank - 2]] = [perm[rank - 2]!, perm[rank - 1]!];
  return perm;
};

describe("the SIMD transpose module", () => {
  it("is a valid WebAssembly module for shared and unshared memories", () => {
    expect(wasm.validate(simdTransposeModuleBytes(false))).toBe(true);
    expect(wasm.validate(simdTransposeModuleBytes(true))).toBe(true);
  });

  it.each([{ shared: false }, { shared: true }])(
    "moves the 4 × 4 blocks of a matrix and leaves the edges alone (shared memory: $shared)",
    ({ shared }) => {
      const memory = new wasm.Memory({ initial: 1, maximum: 4, shared });
      const module = new wasm.Module(simdTransposeModuleBytes(shared));
      const { transpose } = new wasm.Instance(module, { env: { memory } }).exports as {
        transpose: (source: number, target: number, rows: number, columns: number) => void;
      };
      const rows = 9;
      const columns = 70; // 2 edge rows, 2 edge columns, two tiles of 64 columns
      const words = new Int32Array(memory.buffer);
      const target = 4096; // in words
      for (let index = 0; index < rows * columns; index++) words[index] = index + 1;
      transpose(0, target * 4, rows, columns);
      for (let row = 0; row < rows; row++) {
        for (let column = 0; column < columns; column++) {
          const inBlocks = row < 8 && column < 68;
          expect(words[target + column * rows + row]).toBe(inBlocks ? row * columns + column + 1 : 0);
        }
      }
    },
  );
});

describe("Transpose on wasm", () => {
  beforeAll(async () => {
    await initBackend("wasm");
  });

  it("runs in the SIMD module on this runtime", () => {
    expect(simdTransposeRuns(tf.backend())).toBe(true);
  });

  it.each([
    { shape: [4, 4] },
    { shape: [5, 7] },
    { shape: [32, 33] },
    { shape: [66, 130] },
    { shape: [3, 2, 37, 41] },
    { shape: [1, 1030] },
    { shape: [1030, 3] },
    { shape: [4578, 90] },
  ])("swaps the last two axes of $shape like index arithmetic, float32 and int32", ({ shape }) => {
    const size = shape.reduce((product, extent) => product * extent, 1);
    const floats = Float32Array.from({ length: size }, (_, index) => Math.sin(index) * 1e3);
    const ints = Int32Array.from({ length: size }, (_, index) => ((index * 2654435761) | 0) ^ index);
    const before = tf.memory().numTensors;
    for (const [dtype, values] of [
      ["float32", floats],
      ["int32", ints],
    ] as const) {
      const input = tf.tensor(values, shape, dtype);
      const output = tf.transpose(input, swapLast(shape.length));
      expect(output.shape).toEqual([...shape.slice(0, -2), shape.at(-1)!, shape.at(-2)!]);
      expect(output.dtype).toBe(dtype);
      expect(Array.from(output.dataSync())).toEqual(swapByHand(values, shape));
      input.dispose();
      output.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it("moves values as bits: NaN payloads, infinities and negative zero survive", () => {
    const words = new Int32Array(16 * 8);
    for (let index = 0; index < words.length; index++) words[index] = 0x7fc00000 + index; // NaNs
    const floats = new Float32Array(words.buffer);
    floats[3] = Number.POSITIVE_INFINITY;
    floats[9] = -0;
    const input = tf.tensor(floats, [16, 8]);
    const output = tf.transpose(input);
    const bits = new Int32Array(new Float32Array(output.dataSync()).buffer);
    expect(Array.from(bits)).toEqual(swapByHand(new Int32Array(floats.buffer), [16, 8]));
    tf.dispose([input, output]);
  });

  it("leaves other permutations to tfjs, with the same results as index arithmetic", () => {
    const input = tf.tensor(
      Array.from({ length: 2 * 3 * 40 * 8 }, (_, index) => index),
      [2, 3, 40, 8],
    );
    const output = tf.transpose(input, [0, 2, 1, 3]);
    const values = input.dataSync();
    const got = output.dataSync();
    for (let a = 0; a < 2; a++)
      for (let b = 0; b < 3; b++)
        for (let c = 0; c < 40; c++)
          for (let d = 0; d < 8; d++) {
            expect(got[((a * 40 + c) * 3 + b) * 8 + d]).toBe(values[((a * 3 + b) * 40 + c) * 8 + d]);
          }
    tf.dispose([input, output]);
  });

  it("keeps products that run through it (x · Wᵀ as (W · xᵀ)ᵀ) and their gradients equal to float64", () => {
    // batchMatMulWasm.ts runs x · Wᵀ as (W · xᵀ)ᵀ: two transposes of this size go through the module.
    const rows = 24;
    const inner = 64;
    const outputs = 96;
    const x = tf.tensor2d(
      Array.from({ length: rows * inner }, (_, index) => Math.cos(index)),
      [rows, inner],
    );
    const w = tf.tensor2d(
      Array.from({ length: outputs * inner }, (_, index) => Math.sin(index * 0.7)),
      [outputs, inner],
    );
    const upstream = Array.from({ length: rows * outputs }, (_, index) => ((index % 7) - 3) / 5);
    const dy = tf.tensor2d(upstream, [rows, outputs]);
    const product = tf.matMul(x, w, false, true);
    const gradient = tf.grad((input: tf.Tensor) => tf.matMul(input as tf.Tensor2D, w, false, true))(x, dy);
    const wValues = w.dataSync();
    const xValues = x.dataSync();
    const forward = product.dataSync();
    for (let row = 0; row < rows; row++) {
      for (let o = 0; o < outputs; o++) {
        let sum = 0;
        for (let k = 0; k < inner; k++) sum += xValues[row * inner + k]! * wValues[o * inner + k]!;
        expect(forward[row * outputs + o]).toBeCloseTo(sum, 4);
      }
    }
    const got = gradient.dataSync();
    for (let row = 0; row < rows; row++) {
      for (let k = 0; k < inner; k++) {
        let sum = 0;
        for (let o = 0; o < outputs; o++) sum += upstream[row * outputs + o]! * wValues[o * inner + k]!;
        expect(got[row * inner + k]).toBeCloseTo(sum, 4);
      }
    }
    tf.dispose([x, w, dy, product, gradient]);
  });
});
