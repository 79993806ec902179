import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createObjective, defineObjective } from "@apo-rl/objectives";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { AdamW } from "../src/AdamW.js";
import { listCheckpoints, saveTrainingCheckpoint } from "../src/checkpoint.js";
import { CheckpointError, NonFiniteTrainingError } from "../src/errors.js";
import type { MetricsRecord, TrainStepRecord } from "../src/metrics.js";
import type { TensorObjective } from "../src/TrainablePolicy.js";
import { samplerCursor } from "../src/TrainingData.js";
import { train } from "../src/train.js";
import { useBackend } from "./support/backends.js";
import { examples, makePolicy, taskConfig } from "./support/sayNumberTask.js";

/** The real apo objective whose loss is multiplied by NaN at the given (0-based) steps. */
const poisonedAt = (steps: ReadonlySet<number>): TensorObjective => {
  const apo = createObjective("apo", { beta: 0.001 });
  return {
    ...apo,
    microBatchLoss: (input, context) => {
      const output = apo.microBatchLoss(input, context);
      return steps.has(context.step) ? { ...output, loss: tf.mul(output.loss, Number.NaN) } : output;
    },
  };
};

const trainRecords = (runDir: string): TrainStepRecord[] =>
  readFileSync(join(runDir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as MetricsRecord)
    .filter((record): record is TrainStepRecord => record.kind === "train");

describe("non-finite losses", () => {
  const hooks = (objective: TensorObjective, policy: ReturnType<typeof makePolicy>) => ({
    createPolicy: async () => policy,
    createObjective: () => objective,
    createData: async () => ({ train: samplerCursor(examples, 5), heldOut: [] }),
  });

  it("skips a poisoned update, leaves the weights untouched, logs it, and carries on", async () => {
    await useBackend("cpu");
    const runDir = mkdtempSync(join(tmpdir(), "apo-nan-"));
    const policy = makePolicy();
    const lines: string[] = [];
    const weightsAfter: number[][] = [];
    const summary = await train(taskConfig(runDir, { steps: 3, promptsPerStep: 2 }), {
      handleSignals: false,
      log: (line) => lines.push(line),
      progress: () => weightsAfter.push(Array.from(policy.table.dataSync())),
      hooks: hooks(poisonedAt(new Set([1])), policy),
    });
    const records = trainRecords(runDir);
    expect(records.map((record) => record.skipped)).toEqual([false, true, false]);
    expect(records[1]!.skipReason).toBe("loss is NaN");
    expect(records[1]!.loss).toBeNull();
    expect(weightsAfter[1]).toEqual(weightsAfter[0]);
    expect(weightsAfter[2]).not.toEqual(weightsAfter[1]);
    expect(lines.some((line) => line.includes("step 2: update skipped (loss is NaN); 1 in a row"))).toBe(
      true,
    );
    expect(summary).toMatchObject({ steps: 3, skippedSteps: 1 });
    policy.dispose();
  });

  it("stops after maxConsecutiveNonFinite in a row with a clear error and no checkpoint of the streak", async () => {
    await useBackend("cpu");
    const runDir = mkdtempSync(join(tmpdir(), "apo-nan-"));
    const policy = makePolicy();
    const before = tf.memory().numTensors;
    const error = await train(
      taskConfig(runDir, { steps: 6, promptsPerStep: 2, saveEvery: 1, maxConsecutiveNonFinite: 2 }),
      {
        handleSignals: false,
        log: () => {},
        progress: () => {},
        hooks: hooks(poisonedAt(new Set([1, 2, 3])), policy),
      },
    ).catch((cause: unknown) => cause);
    expect(error).toBeInstanceOf(NonFiniteTrainingError);
    expect((error as NonFiniteTrainingError).message).toMatch(
      /^Training stopped at step 3: 2 consecutive steps with a non-finite loss or gradient \(loss is NaN\)/,
    );
    expect(tf.memory().numTensors).toBe(before);
    // Only the checkpoint after the good step 1 exists: none was written during the streak.
    expect((await listCheckpoints(join(runDir, "checkpoints"))).map((location) => location.step)).toEqual([
      1,
    ]);
    expect(existsSync(join(runDir, "summary.json"))).toBe(false);
    policy.dispose();
  });

  it("treats an objective that returns a constant loss as a zero gradient", async () => {
    await useBackend("cpu");
    const runDir = mkdtempSync(join(tmpdir(), "apo-constant-"));
    const policy = makePolicy();
    const initial = Array.from(policy.table.dataSync());
    const constant: TensorObjective = defineObjective({
      name: "constant",
      metricNames: [],
      usesReference: () => false,
      advantages: (batch) => ({ perSample: { advantage: batch.rewards.map(() => 0) }, metrics: {} }),
      // Additive over micro-batches: each holds its rows' share of the step's 0.25.
      microBatchLoss: (input) => ({
        loss: tf.scalar((0.25 * input.samples.advantage.length) / input.totals.sequences),
        metrics: {},
      }),
    });
    const summary = await train(taskConfig(runDir, { steps: 1, promptsPerStep: 2 }), {
      handleSignals: false,
      log: () => {},
      progress: () => {},
      hooks: hooks(constant, policy),
    });
    const [record] = trainRecords(runDir);
    expect(record).toMatchObject({ loss: 0.25, gradNorm: 0, skipped: false });
    expect(summary.steps).toBe(1);
    // AdamW with a zero gradient and no weight decay leaves the weights unchanged.
    expect(Array.from(policy.table.dataSync())).toEqual(initial);
    policy.dispose();
  });

  it("refuses to write a checkpoint of non-finite weights", async () => {
    await useBackend("cpu");
    const root = mkdtempSync(join(tmpdir(), "apo-poisoned-"));
    const policy = makePolicy();
    const optimizer = new AdamW(policy.trainableParameters(), {
      betas: [0.9, 0.99],
      eps: 1e-8,
      weightDecay: 0,
    });
    tf.tidy(() => policy.table.assign(tf.fill(policy.table.shape, Number.POSITIVE_INFINITY)));
    const state = { step: 1, randomState: 0, dataCursor: null, consecutiveNonFinite: 0 };
    const error = await saveTrainingCheckpoint(root, { policy, optimizer, state, keepLast: 2 }).catch(
      (cause: unknown) => cause,
    );
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).reason).toContain("NaN or Infinity");
    expect(await listCheckpoints(root)).toEqual([]);
    optimizer.dispose();
    policy.dispose();
  });
});
