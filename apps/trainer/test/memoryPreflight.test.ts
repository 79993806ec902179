import { type QwenVLPolicy, TrainingMemoryError } from "@apo-rl/qwen-vl";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/loadConfig.js";
import { qwenPolicyFromConfig } from "../src/qwen/qwenPolicyFromConfig.js";
import type { TrainablePolicy } from "../src/TrainablePolicy.js";
import { useBackend } from "./support/backends.js";

const dispose = (policy: TrainablePolicy) => {
  const qwen = policy as unknown as QwenVLPolicy;
  qwen.dispose();
  qwen.model.dispose();
};

/** The demo policy with `overrides` on top of a minimal config. */
const configWith = (overrides: ReadonlyArray<string>) =>
  loadConfig({
    overrides: [
      "model.checkpoint=demo",
      "data.format=synthetic",
      "objective.name=dapo", // β = 0: no frozen reference copy to account for
      "train.steps=1",
      ...overrides,
    ],
  });

describe("the trainer refuses a step that cannot fit the wasm heap before the first step", () => {
  it("names the rollout budget when the rollout's KV cache would overflow, and frees the policy", async () => {
    await useBackend("wasm");
    const before = tf.memory().numTensors;
    // 64 × 64 rows of 2,000 tokens decoded together, trained one row per micro-batch: the demo
    // model's KV cache for the rollout is beyond 4 GiB while one row's activations are small.
    const config = configWith([
      "train.promptsPerStep=64",
      "rollout.groupSize=64",
      "rollout.maxNewTokens=2000",
      "train.maxTokensPerMicroBatch=2000",
    ]);
    const failure = await qwenPolicyFromConfig(config).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TrainingMemoryError);
    expect((failure as TrainingMemoryError).setting).toBe("rollout.maxNewTokens");
    expect(tf.memory().numTensors).toBe(before);
  });

  it("names the token budget when one micro-batch's activations would overflow", async () => {
    await useBackend("wasm");
    const config = configWith([
      "train.promptsPerStep=64",
      "rollout.groupSize=64",
      "rollout.maxNewTokens=4096",
    ]);
    const failure = await qwenPolicyFromConfig(config).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TrainingMemoryError);
    expect((failure as TrainingMemoryError).setting).toBe("train.maxTokensPerMicroBatch");
  });

  it("admits the demo's own settings on wasm and cpu", async () => {
    for (const backend of ["wasm", "cpu"] as const) {
      await useBackend(backend);
      dispose(await qwenPolicyFromConfig(configWith(["train.promptsPerStep=8", "rollout.groupSize=8"])));
    }
  });
});
