import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { initBackend, testBackends } from "../src/index.js";

const webgpu = (await testBackends()).includes("webgpu");

describe.skipIf(!webgpu)("webgpu buffer limits", () => {
  it("refuses, naming the operand, a tensor larger than the adapter's binding limit", async () => {
    await initBackend("webgpu");
    const backend = tf.backend() as unknown as {
      device: { limits: { maxStorageBufferBindingSize: number; maxBufferSize: number } };
    };
    const { maxStorageBufferBindingSize: limit, maxBufferSize } = backend.device.limits;
    const elements = limit / 4 + 1024;
    // Only where one buffer may exceed the binding limit (lavapipe: 4 GiB buffers, 128 MiB bindings).
    if (elements * 4 > maxBufferSize || elements * 4 > 2 ** 30) return;
    const before = tf.memory().numTensors;
    const large = tf.tensor1d(new Float32Array(elements).fill(1)); // uploaded, no kernel
    expect(() => tf.tidy(() => tf.add(large, 1))).toThrow(/maxStorageBufferBindingSize/);
    large.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
