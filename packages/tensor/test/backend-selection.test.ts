import * as tf from "@tensorflow/tfjs-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { resolveOrder } from "../src/backend/initBackend.js";
import {
  BACKEND_NAMES,
  BackendUnavailableError,
  initBackend,
  testBackends,
  UnknownBackendError,
} from "../src/index.js";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("resolveOrder", () => {
  it("uses the argument, then APO_BACKEND, then the default order", () => {
    expect(resolveOrder("cpu", { APO_BACKEND: "wasm" })).toEqual({ order: ["cpu"], source: "argument" });
    expect(resolveOrder(["webgpu", "cpu"], {})).toEqual({ order: ["webgpu", "cpu"], source: "argument" });
    expect(resolveOrder(undefined, { APO_BACKEND: " webgpu , cpu " })).toEqual({
      order: ["webgpu", "cpu"],
      source: "APO_BACKEND",
    });
    expect(resolveOrder(undefined, { APO_BACKEND: "" })).toEqual({
      order: ["tfjs-node-gpu", "tfjs-node", "webgpu", "wasm", "cpu"],
      source: "default",
    });
  });

  it("rejects unknown names, naming the name and where it came from", () => {
    expect(() => resolveOrder(undefined, { APO_BACKEND: "wasm,cuda" })).toThrow(UnknownBackendError);
    try {
      resolveOrder(undefined, { APO_BACKEND: "wasm,cuda" });
    } catch (error) {
      expect(error).toMatchObject({ _tag: "UnknownBackendError", backend: "cuda", source: "APO_BACKEND" });
      expect((error as Error).message).toContain('"cuda"');
    }
  });
});

describe("initBackend", () => {
  it.runIf(process.env.APO_REQUIRE_WEBGPU === "1")(
    "finds a WebGPU adapter where CI installed one (APO_REQUIRE_WEBGPU=1)",
    async () => {
      const report = await initBackend("webgpu");
      expect(report.chosen).toBe("webgpu");
      expect(await testBackends()).toContain("webgpu");
    },
  );

  it("chooses the first usable backend by default and reports every candidate with a reason", async () => {
    // On a machine with a GPU's WebGPU adapter (the GPU check in docs/tensor-backends.md) webgpu
    // wins; a software adapter (Mesa lavapipe in CI) is usable by name but passed over by default.
    const adapter = (await testBackends()).includes("webgpu")
      ? (await initBackend("webgpu")).candidates.find((candidate) => candidate.name === "webgpu")?.reason
      : undefined;
    const software = adapter !== undefined && /llvmpipe|lavapipe|swiftshader/i.test(adapter);
    const gpu = adapter !== undefined && !software;
    const report = await initBackend();
    expect(report.chosen).toBe(gpu ? "webgpu" : "wasm");
    expect(tf.getBackend()).toBe(report.tfjsName);
    expect(report.source).toBe("default");
    expect(report.candidates.map((candidate) => candidate.name)).toEqual([...BACKEND_NAMES]);
    const byName = Object.fromEntries(report.candidates.map((candidate) => [candidate.name, candidate]));
    expect(byName["tfjs-node-gpu"]).toMatchObject({ installed: false, status: "unavailable", usable: false });
    expect(byName["tfjs-node-gpu"]?.reason).toMatch(/not installed; .*CUDA 11\.2 \+ cuDNN 8\.1/);
    expect(byName["tfjs-node"]?.reason).toMatch(/not installed; .*libtensorflow/);
    if (gpu) {
      expect(byName.webgpu).toMatchObject({ status: "chosen", usable: true });
      expect(byName.wasm).toMatchObject({
        status: "skipped",
        reason: "not tried: webgpu comes first in the order",
      });
      return;
    }
    expect(byName.webgpu).toMatchObject({ installed: true, status: "unavailable" });
    expect(byName.webgpu?.reason).toMatch(
      software
        ? /runs WebGPU on the CPU, slower than wasm; ask for it with APO_BACKEND=webgpu/
        : /no WebGPU adapter/,
    );
    expect(byName.wasm).toMatchObject({ status: "chosen", usable: true });
    expect(byName.cpu).toMatchObject({
      status: "skipped",
      reason: "not tried: wasm comes first in the order",
    });
    expect(report.addedKernels).toEqual([
      "UnsortedSegmentSum",
      "Einsum",
      "Conv2DBackpropFilter",
      "Identity",
      "BatchMatMul",
      "Slice",
      "Unpack",
      "Transpose",
    ]);
  });

  it("honours a preference, and APO_BACKEND when no preference is given", async () => {
    const cpu = await initBackend("cpu");
    expect(cpu).toMatchObject({
      chosen: "cpu",
      source: "argument",
      addedKernels: ["UnsortedSegmentSum", "Einsum"],
    });
    expect(tf.getBackend()).toBe("cpu");
    vi.stubEnv("APO_BACKEND", "wasm");
    const fromEnvironment = await initBackend();
    expect(fromEnvironment).toMatchObject({ chosen: "wasm", source: "APO_BACKEND", order: ["wasm"] });
    expect(fromEnvironment.candidates.find((candidate) => candidate.name === "cpu")?.reason).toBe(
      "not in the requested order (wasm)",
    );
    vi.stubEnv("APO_BACKEND", "cpu");
    expect((await initBackend()).chosen).toBe("cpu");
  });

  it("falls through unusable candidates to the next one", async () => {
    const gpu = (await testBackends()).includes("webgpu");
    const report = await initBackend(["tfjs-node", "webgpu", "cpu"]);
    expect(report.chosen).toBe(gpu ? "webgpu" : "cpu");
    expect(
      report.candidates.filter((candidate) => candidate.status === "unavailable").map((c) => c.name),
    ).toEqual(gpu ? ["tfjs-node"] : ["tfjs-node", "webgpu"]);
  });

  it("fails with a typed error listing each reason when nothing in the order is usable", async () => {
    const failure = initBackend(["tfjs-node-gpu", "tfjs-node"]);
    await expect(failure).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(failure).rejects.toMatchObject({
      requested: ["tfjs-node-gpu", "tfjs-node"],
      reason: expect.stringMatching(
        /^tfjs-node-gpu: @tensorflow\/tfjs-node-gpu not installed.*; tfjs-node: /,
      ),
    });
  });

  it("switches back and forth without leaking tensors, and tensors survive a switch", async () => {
    await initBackend("wasm");
    const before = tf.memory().numTensors;
    const kept = tf.tensor1d([1, 2, 3]);
    for (const name of ["cpu", "wasm", "cpu", "wasm"] as const) {
      await initBackend(name);
      expect(tf.getBackend()).toBe(name);
      const doubled = tf.tidy(() => tf.mul(kept, 2));
      expect(Array.from(await doubled.data())).toEqual([2, 4, 6]);
      doubled.dispose();
    }
    kept.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("testBackends", () => {
  it("lists wasm and cpu (webgpu only with an adapter) and leaves the active backend alone", async () => {
    await initBackend("cpu");
    const names = await testBackends();
    expect(names.filter((name) => name !== "webgpu")).toEqual(["wasm", "cpu"]);
    expect(names.includes("webgpu")).toBe((await initBackend(["webgpu", "cpu"])).chosen === "webgpu");
    await initBackend("cpu");
    await testBackends();
    expect(tf.getBackend()).toBe("cpu");
  });
});
