import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { syntheticCountingTask } from "@apo-rl/datasets";
import { createObjective } from "@apo-rl/objectives";
import { counting } from "@apo-rl/rewards";
import { initBackend, testBackends } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { afterEach, describe, expect, it } from "vitest";
import { AdamW } from "../src/AdamW.js";
import { inProcessBatchVerifier } from "../src/BatchVerifier.js";
import { demoCheckpointDirectory } from "../src/demo/demoAssets.js";
import { loadQwenPolicy } from "../src/qwen/loadQwenPolicy.js";
import { toTrainingExample } from "../src/TrainingData.js";
import { runTrainingStep } from "../src/trainingStep.js";

const webgpu = (await testBackends()).includes("webgpu");

/** The part of tfjs-backend-webgpu's backend read here: where a tensor's values live. */
interface WebGpuBackend {
  readSync(dataId: tf.DataId): unknown;
  readonly tensorMap: { get(dataId: tf.DataId): { values?: unknown; dtype?: string } | undefined };
}

/**
 * Records every synchronous read: `dataSync`, `arraySync` and `bufferSync` on any tensor, and a
 * webgpu `readSync` of data that lives on the GPU (tfjs's own kernels read small host-resident
 * tensors that way, which costs nothing). Returns the stacks recorded and a function that undoes it.
 */
const recordSyncReads = () => {
  const reads: string[] = [];
  const restore: Array<() => void> = [];
  const prototype = tf.Tensor.prototype as unknown as Record<string, (...args: Array<unknown>) => unknown>;
  for (const method of ["dataSync", "arraySync", "bufferSync"]) {
    const original = prototype[method]!;
    prototype[method] = function (this: tf.Tensor, ...args: Array<unknown>) {
      reads.push(`Tensor.${method}\n${new Error().stack}`);
      return original.apply(this, args);
    };
    restore.push(() => {
      prototype[method] = original;
    });
  }
  const backend = tf.findBackend("webgpu") as unknown as WebGpuBackend;
  const readSync = backend.readSync;
  backend.readSync = (dataId: tf.DataId) => {
    const data = backend.tensorMap.get(dataId);
    if (data !== undefined && data.values == null && data.dtype !== "string")
      reads.push(`webgpu readSync of GPU data\n${new Error().stack}`);
    return readSync.call(backend, dataId);
  };
  restore.push(() => {
    backend.readSync = readSync;
  });
  return {
    reads,
    restore: () => {
      for (const undo of restore) undo();
    },
  };
};

describe.skipIf(!webgpu)("a training step on webgpu", () => {
  let undo: (() => void) | undefined;
  afterEach(() => undo?.());

  it("samples, scores, differentiates APO, clips, updates and saves without one synchronous read", async () => {
    await initBackend("webgpu");
    const policy = await loadQwenPolicy(demoCheckpointDirectory(), { reference: true });
    const optimizer = new AdamW(policy.trainableParameters(), {
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0.01,
    });
    const task = syntheticCountingTask({ trainSize: 2, heldOutSize: 0, variant: "mixed" });
    const before = tf.memory().numTensors;
    const recorder = recordSyncReads();
    undo = recorder.restore;
    try {
      const { record } = await runTrainingStep(
        {
          policy,
          objective: createObjective("apo", { beta: 0.01 }),
          verifier: inProcessBatchVerifier(counting()),
          optimizer,
          rollout: { groupSize: 2, temperature: 1, topP: 1, topK: 0, maxNewTokens: 4, stopStrings: [] },
          optimizerConfig: { lr: 1e-5, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, gradClip: 1e-3 },
          maxTokensPerMicroBatch: 4,
          useReference: true,
        } as unknown as Parameters<typeof runTrainingStep>[0],
        { step: 0, totalSteps: 1, examples: task.train.map(toTrainingExample), seed: 5, lr: 1e-5 },
      );
      const directory = mkdtempSync(join(tmpdir(), "apo-webgpu-step-"));
      await policy.save(join(directory, "policy"));
      await optimizer.save(join(directory, "optimizer"));
      expect(recorder.reads, recorder.reads.join("\n\n")).toEqual([]);
      expect(record.skipped).toBe(false);
      expect(Number.isFinite(record.loss)).toBe(true);
      // The norm before clipping (0 when every group's rewards are equal and π = π_ref).
      expect(record.gradNorm).toBeGreaterThanOrEqual(0);
      expect(record.objective["policyLoss"]).toEqual(expect.any(Number));
    } finally {
      recorder.restore();
      undo = undefined;
    }
    expect(tf.memory().numTensors).toBe(before);
    optimizer.dispose();
    policy.dispose();
    policy.model.dispose();
  });

  it("the recorder catches a synchronous read of GPU data", async () => {
    await initBackend("webgpu");
    const recorder = recordSyncReads();
    undo = recorder.restore;
    // Above tfjs's 1,000-element threshold for running small ops on the CPU: computed on the GPU.
    const onGpu = tf.tidy(() => tf.add(tf.ones([4096]), 1));
    expect(() => onGpu.dataSync()).toThrow();
    onGpu.dispose();
    recorder.restore();
    undo = undefined;
    expect(recorder.reads.length).toBeGreaterThan(0);
  });
});
