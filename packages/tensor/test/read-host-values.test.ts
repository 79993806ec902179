import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { initBackend, readHostValues, testBackends } from "../src/index.js";

describe.each(await testBackends())("readHostValues on %s", (backend) => {
  it("reads a tensor made from an array, and a computed one always on a host backend", async () => {
    await initBackend(backend);
    const before = tf.memory().numTensors;
    const fresh = tf.tensor1d([1, 0, 2]);
    expect(Array.from(readHostValues(fresh) ?? [])).toEqual([1, 0, 2]);
    const computed = tf.tidy(() => tf.mul(fresh, 3));
    const values = readHostValues(computed);
    // On webgpu a result is host-readable only where tfjs ran the kernel on the CPU (small inputs);
    // when it is readable, it is right.
    if (backend !== "webgpu") expect(values).toBeDefined();
    if (values !== undefined) expect(Array.from(values)).toEqual([3, 0, 6]);
    // The asynchronous read always works and agrees.
    expect(Array.from(await computed.data())).toEqual([3, 0, 6]);
    tf.dispose([fresh, computed]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
