import { readFileSync } from "node:fs";
import { join } from "node:path";
import { initBackend } from "@apo-rl/tensor";
import { reasoningCheckpointDirectory } from "@apo-rl/trainer";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import type { EvaluationSummary } from "../src/eval/evaluatePolicy.js";
import { bench, outputDirectory, readRecord } from "./support/cli.js";

describe("the reasoning task's committed warm start", () => {
  beforeAll(async () => {
    await initBackend("wasm");
  });

  it("greedy held-out accuracy is between floor and ceiling and wrong answers vary in length", async () => {
    const out = outputDirectory();
    const before = tf.memory().numTensors;
    const run = await bench([
      "eval",
      ...["--task", "reasoning", "--size", "128", "--target-colors", "red", "--max-new-tokens", "24"],
      ...["--workers", "0", "--backend", "wasm", "--out", out, "--quiet"],
    ]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    const results = readRecord(out, "eval").results as {
      readonly overall: EvaluationSummary;
      readonly categories: Record<string, EvaluationSummary>;
    };
    // The accuracy `apo-train sft` measured at its last evaluation, reproduced independently.
    const summary = JSON.parse(
      readFileSync(join(reasoningCheckpointDirectory(), "sft-summary.json"), "utf8"),
    );
    expect(results.overall.accuracy).toBeCloseTo(summary.heldOutAccuracyAfter, 12);
    expect(results.overall.accuracy).toBeGreaterThanOrEqual(0.2);
    expect(results.overall.accuracy).toBeLessThanOrEqual(0.7);
    expect(results.overall.formatRate).toBe(1);
    const { meanLengthIncorrect, lengthStdIncorrect } = results.overall;
    expect(lengthStdIncorrect! / meanLengthIncorrect!).toBeGreaterThanOrEqual(0.2);
    // Every count from trivial to hard is in the held-out split.
    expect(Object.keys(results.categories)).toEqual(
      expect.arrayContaining(["count-1", "count-2", "count-3", "count-4", "count-5", "count-6"]),
    );
  });
});
