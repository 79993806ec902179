import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { initBackend, startHeapMeter, testBackends, wasmHeapBytes } from "../src/index.js";

const backends = await testBackends();

describe("startHeapMeter", () => {
  it.skipIf(!backends.includes("wasm"))(
    "counts every wasm buffer once, with its high-water mark",
    async () => {
      await initBackend("wasm");
      const meter = startHeapMeter()!;
      expect(meter).toBeDefined();
      const a = tf.zeros([1000, 250]);
      const aliases = [tf.reshape(a, [250_000]), a.clone()];
      expect(meter.currentBytes()).toBe(1_000_000);
      const b = tf.add(a, a);
      expect(meter.peakBytes()).toBe(2_000_000);
      tf.dispose([a, b, ...aliases]);
      expect(meter.currentBytes()).toBe(0);
      expect(meter.peakBytes()).toBe(2_000_000);
      meter.reset();
      expect(meter.peakBytes()).toBe(0);
      meter.stop();
      const c = tf.zeros([10]);
      expect(meter.currentBytes()).toBe(0);
      c.dispose();
      expect(wasmHeapBytes()).toBeGreaterThan(2_000_000);
    },
  );

  it("is undefined off wasm", async () => {
    await initBackend("cpu");
    expect(startHeapMeter()).toBeUndefined();
    expect(wasmHeapBytes()).toBeUndefined();
  });
});
