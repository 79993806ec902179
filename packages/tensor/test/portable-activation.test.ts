import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { initBackend } from "../src/index.js";
import { activateBackend, BackendUnavailableError, registerWebGpuBackend } from "../src/portable.js";

describe("activateBackend (the portable entry point's backend switch)", () => {
  it("activates a registered backend with the kernels initBackend installs there", async () => {
    // initBackend registers the packages and reports what it added on cpu; activation must add the same.
    const report = await initBackend("cpu");
    await initBackend("wasm");
    const activated = await activateBackend("cpu");
    expect(tf.getBackend()).toBe("cpu");
    expect(activated).toMatchObject({ name: "cpu", detail: "cpu" });
    expect([...activated.addedKernels].sort()).toEqual([...report.addedKernels].sort());
    const wasm = await activateBackend("wasm", "WebAssembly");
    expect(tf.getBackend()).toBe("wasm");
    expect(wasm.detail).toBe("WebAssembly");
  });

  it("names the backend when its package was never imported", async () => {
    // Nothing in this file imports tfjs-backend-webgpu (initBackend only does for "webgpu").
    expect(tf.findBackendFactory("webgpu")).toBeNull();
    await expect(activateBackend("webgpu")).rejects.toSatisfy(
      (error: unknown) => error instanceof BackendUnavailableError && /import its package/.test(error.reason),
    );
  });
});

describe("registerWebGpuBackend", () => {
  const WebGPUBackend = class {} as never;

  it("rejects without navigator.gpu or without an adapter, saying which", async () => {
    await expect(registerWebGpuBackend({ gpu: undefined, WebGPUBackend })).rejects.toSatisfy(
      (error: unknown) =>
        error instanceof BackendUnavailableError && /navigator.gpu is not defined/.test(error.reason),
    );
    await expect(
      registerWebGpuBackend({ gpu: { requestAdapter: async () => null }, WebGPUBackend }),
    ).rejects.toSatisfy(
      (error: unknown) =>
        error instanceof BackendUnavailableError && /returned no adapter/.test(error.reason),
    );
  });

  it("describes a software adapter and registers a factory without creating a device", async () => {
    const adapter = {
      features: { has: () => false },
      limits: { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 29 },
      info: { vendor: "google", architecture: "swiftshader", device: "", description: "" },
      requestDevice: async () => {
        throw new Error("not created until the backend is activated");
      },
    };
    const described = await registerWebGpuBackend({
      gpu: { requestAdapter: async () => adapter },
      WebGPUBackend,
    });
    expect(described.detail).toBe(
      "WebGPU adapter google / swiftshader, buffers ≤ 1.0 GiB, bindings ≤ 0.5 GiB",
    );
    expect(described.software).toBe("swiftshader runs WebGPU on the CPU");
    expect(tf.findBackendFactory("webgpu")).not.toBeNull();
    tf.removeBackend("webgpu");
  });
});
