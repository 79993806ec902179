import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import type { MetricsRecord, TrainStepRecord } from "../src/metrics.js";
import type { TrainerHooks } from "../src/TrainerHooks.js";
import { samplerCursor } from "../src/TrainingData.js";
import { train } from "../src/train.js";
import { useBackend } from "./support/backends.js";
import { examples, makePolicy, taskConfig } from "./support/sayNumberTask.js";
import type { TabularPolicy } from "./support/TabularPolicy.js";

const quiet = { log: () => {}, progress: () => {}, handleSignals: false } as const;

const hooksFor = (policy: TabularPolicy, seed: number): Partial<TrainerHooks> => ({
  createPolicy: async () => policy,
  createData: async () => ({ train: samplerCursor(examples, seed), heldOut: examples }),
});

const readRecords = (runDir: string): MetricsRecord[] =>
  readFileSync(join(runDir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as MetricsRecord);

describe("train (end to end: tabular policy, apo objective, counting verifier in a worker pool)", () => {
  it("learns the trivial task: finite losses, weights change, metrics, report and summary written", async () => {
    await useBackend("cpu");
    const runDir = mkdtempSync(join(tmpdir(), "apo-train-"));
    const base = taskConfig(runDir, { steps: 16, evalEvery: 8, saveEvery: 8 });
    // The verifier runs in @apo-rl/rewards' worker pool here (one thread).
    const config = {
      ...base,
      optimizer: { ...base.optimizer, lr: 0.5 },
      reward: { ...base.reward, workers: 1 },
    };
    const policy = makePolicy();
    const initial = Array.from(policy.table.dataSync());
    const tensorsBefore = tf.memory().numTensors;
    const lines: string[] = [];
    const summary = await train(config, {
      ...quiet,
      progress: (line) => lines.push(line),
      hooks: hooksFor(policy, 3),
    });
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    const records = readRecords(runDir);
    const steps = records.filter((record): record is TrainStepRecord => record.kind === "train");
    expect(steps.map((record) => record.step)).toEqual(Array.from({ length: 16 }, (_, index) => index + 1));
    for (const record of steps) {
      expect(Number.isFinite(record.loss)).toBe(true);
      expect(record.skipped).toBe(false);
      expect(record.kl).not.toBeNull();
      expect(record.entropy).toBeGreaterThan(0);
      expect(record.clipFraction).not.toBeNull();
      expect(record.dadsWeight).not.toBeNull();
      expect(record.objective["policyLoss"]).toBeTypeOf("number");
      expect(record.samples).toBe(32);
      // The mechanism telemetry is the objective's, lifted into the record.
      expect(record.difficultyMean).toBe(record.objective["difficultyMean"]);
      expect(record.stcrPenalisedFraction).toBe(record.objective["stcrPenalisedFraction"]);
      expect(record.difficultyMean).toBeGreaterThanOrEqual(0);
      expect(record.difficultyMean).toBeLessThanOrEqual(1);
    }
    expect(Array.from(policy.table.dataSync())).not.toEqual(initial);
    const early = (steps[0]!.reward + steps[1]!.reward) / 2;
    const late = (steps[14]!.reward + steps[15]!.reward) / 2;
    expect(late).toBeGreaterThan(early + 0.4);

    const evaluations = records.filter((record) => record.kind === "eval");
    expect(evaluations.map((record) => record.step)).toEqual([0, 8, 16]);
    expect(summary.heldOutAccuracyBefore).toBe(evaluations[0]!.accuracy);
    expect(summary.heldOutAccuracyAfter).toBe(evaluations[2]!.accuracy);
    expect(summary.heldOutAccuracyAfter).toBeGreaterThan(summary.heldOutAccuracyBefore! + 0.5);
    expect(summary.steps).toBe(16);
    expect(summary.objective).toBe("apo");
    expect(JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8"))).toMatchObject({
      steps: 16,
      objective: "apo",
    });
    expect(JSON.parse(readFileSync(join(runDir, "config.json"), "utf8"))).toEqual(
      JSON.parse(JSON.stringify(config)),
    );
    expect(lines[15]).toMatch(/^step 16\/16 \[=+>\] 100% ETA 0s \| reward /);

    const report = readFileSync(join(runDir, "report.html"), "utf8");
    expect(report).toContain("<svg");
    expect(report.match(/<polyline/g)?.length).toBeGreaterThan(10);
    expect(report).not.toMatch(/<script|<link|src=|href=/);
    expect(existsSync(join(runDir, "checkpoints", "step-00000008", "checkpoint.json"))).toBe(true);
    expect(existsSync(join(runDir, "checkpoints", "step-00000016", "checkpoint.json"))).toBe(true);
    policy.dispose();
  });
});
