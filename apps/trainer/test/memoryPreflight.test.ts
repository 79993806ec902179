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
    overrides: ["model.checkpoint=demo", "data.format=synthetic", "objective.name=grpo", ...overrides],
  });

describe("the trainer refuses a step that cannot fit the wasm heap before the first step", () => {
  it("names the rollout budget when the rollout's KV cache would overflow, and frees the policy", async () => {
    await useBackend("wasm");
    const before = tf.memory().numTensors;
    // 64 × 64 rows of 200,000 tokens: the demo model's KV cache alone is far beyond 4 GiB.
    const config = configWith([
      "train.promptsPerStep=64",
      "rollout.groupSize=64",
      "rollout.maxNewTokens=200000",
    ]);
    const failure = await qwenPolicyFromConfig(config).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TrainingMemoryError);
    expect((failure as TrainingMemoryError).setting).toBe("rollout.maxNewTokens");
    expect(tf.memory().numTensors).toBe(before);
  });

  it("admits the demo's own settings, and does not limit the cpu backend", async () => {
    await useBackend("wasm");
    const demo = await qwenPolicyFromConfig(configWith(["train.promptsPerStep=8", "rollout.groupSize=8"]));
    dispose(demo);
    await useBackend("cpu");
    const large = await qwenPolicyFromConfig(
      configWith(["train.promptsPerStep=64", "rollout.groupSize=64", "rollout.maxNewTokens=200000"]),
    );
    dispose(large);
  });
});
