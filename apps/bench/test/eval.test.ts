import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { syntheticCountingTask, writeSyntheticTask } from "@apo-rl/datasets";
import { initBackend } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import type { EvaluationSummary } from "../src/eval/evaluatePolicy.js";
import { loadEvaluationItems } from "../src/eval/evaluationData.js";
import { bench, outputDirectory, readRecord, tableRows } from "./support/cli.js";

interface EvalResults {
  readonly backend: string;
  readonly overall: EvaluationSummary;
  readonly categories: Record<string, EvaluationSummary>;
  readonly prompts: ReadonlyArray<{
    readonly category: string;
    readonly correct: number;
    readonly samples: number;
  }>;
}

const checkSummary = (summary: EvaluationSummary, samplesPerPrompt: number) => {
  expect(summary.samples).toBe(summary.prompts * samplesPerPrompt);
  expect(summary.accuracy).toBeGreaterThanOrEqual(0);
  expect(summary.accuracy).toBeLessThanOrEqual(1);
  expect(summary.formatRate === null || (summary.formatRate >= 0 && summary.formatRate <= 1)).toBe(true);
  // pass@1 is the accuracy; pass@k never decreases with k and stays in [0, 1].
  expect(summary.passAtK["1"]).toBeCloseTo(summary.accuracy, 12);
  const values = Object.entries(summary.passAtK)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, value]) => value);
  for (let index = 1; index < values.length; index++)
    expect(values[index]).toBeGreaterThanOrEqual(values[index - 1]! - 1e-12);
  expect(Math.max(...values)).toBeLessThanOrEqual(1);
};

describe("apo-bench eval", () => {
  beforeAll(async () => {
    await initBackend("wasm");
  });

  it("evaluates a policy on the synthetic task with sampling, pass@k and a per-category breakdown", async () => {
    const out = outputDirectory();
    const before = tf.memory().numTensors;
    const run = await bench([
      "eval",
      ...[
        "--policy",
        "demo-init",
        "--size",
        "6",
        "--variant",
        "mixed",
        "--samples",
        "4",
        "--temperature",
        "1",
      ],
      ...["--max-new-tokens", "6", "--workers", "0", "--backend", "wasm", "--out", out, "--quiet"],
    ]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    for (const file of ["eval.json", "eval.md", "eval-pass-at-k.svg"])
      expect(existsSync(join(out, file))).toBe(true);
    expect(readFileSync(join(out, "eval-pass-at-k.svg"), "utf8")).toMatch(/^<svg[^>]*>[\s\S]*<\/svg>$/);

    const record = readRecord(out, "eval");
    expect(record.machine.cpuCount).toBeGreaterThan(0);
    expect(record.settings["seed"]).toBe(0);
    const results = record.results as unknown as EvalResults;
    expect(results.backend).toBe("wasm");
    checkSummary(results.overall, 4);
    expect(Object.keys(results.overall.passAtK)).toEqual(["1", "2", "4"]);
    for (const summary of Object.values(results.categories)) checkSummary(summary, 4);

    // The categories partition the prompts, and every number re-derives from the per-prompt counts.
    const categories = Object.values(results.categories);
    expect(categories.reduce((sum, summary) => sum + summary.prompts, 0)).toBe(6);
    const correct = results.prompts.reduce((sum, prompt) => sum + prompt.correct, 0);
    expect(results.overall.accuracy).toBeCloseTo(correct / 24, 12);
    const passAt4 = results.prompts.filter((prompt) => prompt.correct > 0).length / 6;
    expect(results.overall.passAtK["4"]).toBeCloseTo(passAt4, 12);

    // The markdown table has the overall row then one per category, with the JSON's numbers.
    const rows = tableRows(out, "eval");
    expect(rows.map((row) => row[0])).toEqual(["all", ...Object.keys(results.categories)]);
    expect(Number(rows[0]![3])).toBeCloseTo(results.overall.accuracy, 3);
    expect(Number(rows[0]![1])).toBe(6);
  });

  it("evaluates a JSONL file greedily with the same numbers as the in-memory synthetic prompts", async () => {
    const out = outputDirectory();
    const task = syntheticCountingTask({ trainSize: 0, heldOutSize: 3 });
    const files = await writeSyntheticTask(join(out, "data"), task);
    const common = [
      "--policy",
      "demo-init",
      "--max-new-tokens",
      "5",
      "--workers",
      "0",
      "--backend",
      "wasm",
      "-q",
    ];
    const fromFile = await bench([
      "eval",
      "--dataset",
      files.heldOut,
      ...common,
      "--accuracy",
      "counting",
      "--out",
      out,
      "--name",
      "file",
    ]);
    expect(fromFile.stderr).toBe("");
    const synthetic = await bench(["eval", "--size", "3", ...common, "--out", out, "--name", "synthetic"]);
    expect([fromFile.status, synthetic.status]).toEqual([0, 0]);
    const a = readRecord(out, "file").results as unknown as EvalResults;
    const b = readRecord(out, "synthetic").results as unknown as EvalResults;
    expect(a.overall.samples).toBe(3);
    expect(a.overall.passAtK).toEqual({ "1": a.overall.accuracy });
    expect(a.prompts.map((prompt) => prompt.correct)).toEqual(b.prompts.map((prompt) => prompt.correct));
  });

  it("rejects bad options with status 2 and the subcommand's help", async () => {
    const greedyPassAtK = await bench(["eval", "--samples", "4"]);
    expect(greedyPassAtK.status).toBe(2);
    expect(greedyPassAtK.stderr).toContain("--samples: greedy decoding");
    const badK = await bench(["eval", "--samples", "2", "--temperature", "1", "--pass-at-k", "1,4"]);
    expect(badK.stderr).toContain("--pass-at-k: k = 4 exceeds --samples 2");
    const backend = await bench(["eval", "--backend", "gpu"]);
    expect(backend.stderr).toContain(
      '--backend: expected one of auto, tfjs-node-gpu, tfjs-node, webgpu, wasm, cpu, got "gpu"',
    );
    const unknown = await bench(["eval", "--bogus"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("apo-bench eval — evaluate a policy");
    const missing = await bench([
      "eval",
      "--policy",
      join(outputDirectory(), "nothing"),
      "--workers",
      "0",
      "-q",
    ]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("has no config.json");
  });

  it("limits the synthetic prompts to the target colours", async () => {
    const items = await loadEvaluationItems({
      kind: "synthetic",
      size: 12,
      variant: "count",
      difficulty: 0.25,
      targetColors: ["red"],
    });
    expect(items).toHaveLength(12);
    expect(items.every((item) => JSON.stringify(item.messages).includes("How many red shapes"))).toBe(true);
  });
});
