import { existsSync } from "node:fs";
import { join } from "node:path";
import { initBackend } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { type GeneratePerfRow, runGeneratePerf } from "../src/perf/generate.js";
import type { TrainStepPerfRow } from "../src/perf/trainStep.js";
import { bench, outputDirectory, readRecord, tableRows } from "./support/cli.js";

describe("apo-bench perf", () => {
  beforeAll(async () => {
    await initBackend("wasm");
  });

  it("train-step --quick times every phase of one RL step on the demo model", async () => {
    const out = outputDirectory();
    const before = tf.memory().numTensors;
    const run = await bench(["perf", "train-step", "--quick", "--repeats", "2", "--out", out, "-q"]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    expect(existsSync(join(out, "perf-train-step.md"))).toBe(true);
    const record = readRecord(out, "perf-train-step");
    expect(record.settings).toMatchObject({ suite: "train-step", quick: true, repeats: 2 });
    const rows = (record.results as { rows: ReadonlyArray<TrainStepPerfRow> }).rows;
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.backend).toBe("wasm");
    expect(row.fineTuning).toBe("full (vision tower frozen)");
    expect(row.runs).toHaveLength(2);
    expect(row.trainableParameters).toBeGreaterThan(0);
    // The decoder trains, the vision tower (part of the parameters) does not.
    expect(row.trainableParameters).toBeGreaterThan(0);
    expect(row.trainableParameters).toBeLessThan(row.parameters);
    expect(row.generatedTokens).toBeGreaterThan(0);
    expect(row.generatedTokens).toBeLessThanOrEqual(row.prompts * row.groupSize * row.maxNewTokens);
    // Every row's prompt + response, the wasm heap's high-water mark, the activation peak per token.
    expect(row.tokens).toBeGreaterThan(row.generatedTokens + row.prompts * row.groupSize);
    expect(row.gradientCheckpointing).toBe(true);
    // One wasm thread unless --wasm-threads (or APO_WASM_THREADS) asks for more.
    expect(row.wasmThreads).toBe(1);
    expect(row.peakHeapBytes).toBeGreaterThan(row.bytesAfterStep / 4);
    expect(row.activationBytesPerToken).toBeGreaterThan(0);
    for (const run of row.runs) {
      for (const value of Object.values(run)) expect(value).toBeGreaterThanOrEqual(0);
      const total = run.rollout + run.reward + run.referenceLogprobs + run.forwardBackward + run.update;
      // The step's own clock runs around its phases (hooks excluded): at least their sum.
      expect(run.step).toBeGreaterThanOrEqual(total - 1e-6);
      expect(run.step).toBeLessThan(total + 1);
      expect(run.backward).toBeCloseTo(Math.max(0, run.forwardBackward - run.forward), 9);
    }
    // The median of two runs is their mean.
    expect(row.phases.step).toBeCloseTo((row.runs[0]!.step + row.runs[1]!.step) / 2, 9);
    const table = tableRows(out, "perf-train-step");
    expect(table).toHaveLength(1);
    expect(table[0]![1]).toBe("wasm");
  });

  it("--wasm-threads takes auto or 1–8 and refuses anything else, naming the option", async () => {
    const run = await bench(["perf", "train-step", "--quick", "--wasm-threads", "0", "-q"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("--wasm-threads");
    expect(run.stderr).toContain('got "0"');
  });

  it("generate scores rollouts in micro-batches, every rollout once, without leaking tensors", async () => {
    const before = tf.memory().numTensors;
    const outcome = await runGeneratePerf({ quick: true, models: ["fixture"], trainingMicroBatch: 3 });
    expect(tf.memory().numTensors).toBe(before);
    const rows = (outcome.results as { rows: ReadonlyArray<GeneratePerfRow> }).rows;
    const training = rows.filter((row) => row.kind !== "generate");
    // logprobs and logprobs+gradient over the 1 × 8 and 8 × 8 rollouts.
    expect(training.map((row) => [row.kind, row.prompts * row.samples])).toEqual([
      ["logprobs", 8],
      ["logprobs", 64],
      ["logprobs+gradient", 8],
      ["logprobs+gradient", 64],
    ]);
    for (const row of training) {
      expect(row.error).toBeUndefined();
      expect(row.microBatch).toBe(3);
      // Per response token: 8 new tokens for each rollout of the pass.
      expect(row.tokensPerSecond * row.seconds).toBeCloseTo(row.prompts * row.samples * 8, 6);
    }
    for (const row of rows.filter((row) => row.kind === "generate")) expect(row.microBatch).toBeUndefined();
    expect(outcome.table).toContain("| rollouts per pass |");
  });

  it("runs an existing suite through the same writer", async () => {
    const out = outputDirectory();
    const run = await bench(["perf", "rewards", "--quick", "--out", out, "--name", "smoke", "-q"]);
    expect(run.status).toBe(0);
    const record = readRecord(out, "smoke");
    const rows = (
      record.results as { rows: ReadonlyArray<{ pairs: number; verificationsPerSecond: number }> }
    ).rows;
    expect(rows.length).toBeGreaterThan(0);
    expect(tableRows(out, "smoke")).toHaveLength(rows.length);
    for (const row of rows) expect(row.verificationsPerSecond).toBeGreaterThan(0);
  });

  it("names the suites when the suite is missing or unknown", async () => {
    const missing = await bench(["perf"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("name a suite: tensor, rewards, model, generate, train-step, all");
    const unknown = await bench(["perf", "gpu"]);
    expect(unknown.stderr).toContain('unknown suite "gpu"');
    const badModel = await bench(["perf", "train-step", "--models", "llama"]);
    expect(badModel.stderr).toContain('unknown model "llama"');
  });
});
