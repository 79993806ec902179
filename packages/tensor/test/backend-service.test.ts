import * as tf from "@tensorflow/tfjs-core";
import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import { BackendUnavailableError, TensorBackend } from "../src/index.js";

describe("TensorBackend service", () => {
  it("selects the requested backend when the layer is built, and can switch", async () => {
    const program = Effect.gen(function* () {
      const backend = yield* TensorBackend;
      const first = backend.report.chosen;
      const active = tf.getBackend();
      const switched = yield* backend.select("wasm");
      return { first, active, switched: switched.chosen, after: tf.getBackend() };
    });
    const result = await Effect.runPromise(Effect.provide(program, TensorBackend.layer("cpu")));
    expect(result).toEqual({ first: "cpu", active: "cpu", switched: "wasm", after: "wasm" });
  });

  it("fails the layer with a typed error when no requested backend is usable", async () => {
    const program = Effect.gen(function* () {
      return (yield* TensorBackend).report;
    });
    const error = await Effect.runPromise(
      Effect.flip(Effect.provide(program, TensorBackend.layer(["tfjs-node-gpu", "tfjs-node"]))),
    );
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error).toMatchObject({ requested: ["tfjs-node-gpu", "tfjs-node"] });
    expect(error.reason).toMatch(/^tfjs-node-gpu: .*not installed.*; tfjs-node: .*not installed/);
  });

  it("fails with UnknownBackendError for a bad name", async () => {
    const error = await Effect.runPromise(Effect.flip(TensorBackend.make(["wasm", "cuda" as "wasm"])));
    expect(error).toMatchObject({ _tag: "UnknownBackendError", backend: "cuda", source: "argument" });
  });
});
