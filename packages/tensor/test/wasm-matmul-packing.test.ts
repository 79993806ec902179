import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { initBackend, testBackends } from "../src/index.js";

// A file of its own: the wasm heap only grows, so the measurement needs a process whose heap has not
// been grown (and left with free space) by other tests.
const backends = await testBackends();

const heapBytes = (): number =>
  (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;

describe.skipIf(!backends.includes("wasm"))("BatchMatMul on wasm", () => {
  it("keeps no packed copy of a long-lived right operand after the product", async () => {
    await initBackend("wasm");
    const side = 4096; // each weight 64 MiB
    const weights = Array.from({ length: 8 }, (_, index) => tf.fill([side, side], 0.001 * (index + 1)));
    const rows = tf.ones([8, side]);
    const before = tf.memory().numTensors;
    const heapBefore = heapBytes();
    const sums: number[] = [];
    for (const weight of weights) {
      // dY · W, as in every linear layer's backward: XNNPACK packs W for the product.
      const sum = tf.tidy(() => tf.sum(tf.matMul(rows, weight)));
      sums.push(sum.dataSync()[0]! / (8 * side));
      sum.dispose();
    }
    const grown = heapBytes() - heapBefore;
    // Each product is right: a row of ones times columns of constant c sums to side · c.
    for (const [index, value] of sums.entries()) expect(value).toBeCloseTo(side * 0.001 * (index + 1), 1);
    // With a packed copy cached per weight the heap would grow by ~8 × 64 MiB; one transient packed
    // copy (reused) is all a product needs.
    expect(grown).toBeLessThan(160 * 2 ** 20);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...weights, rows]);
  });
});
