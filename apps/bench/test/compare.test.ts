import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { initBackend } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import type { CompareRun, CompareSummary } from "../src/compare/runCompare.js";
import { mean, standardDeviation } from "../src/statistics.js";
import { bench, outputDirectory, readRecord, tableRows } from "./support/cli.js";

/** A tiny base config (as a user's --config file would be), independent of the demo's own config. */
const tinyConfig = (directory: string): string => {
  const file = join(directory, "tiny.json");
  writeFileSync(
    file,
    JSON.stringify({
      model: { checkpoint: "demo" },
      data: { format: "synthetic", heldOutSize: 3, synthetic: { variant: "count", trainSize: 8 } },
      rollout: { groupSize: 2, maxNewTokens: 8 },
      reward: { preset: "view-r1", accuracy: "counting", workers: 0 },
      optimizer: { lr: 1e-3 },
      train: { promptsPerStep: 2 },
      backend: "wasm",
    }),
  );
  return file;
};

describe("apo-bench compare", () => {
  beforeAll(async () => {
    await initBackend("wasm");
  });

  it("trains each objective once per seed and summarises over seeds", async () => {
    const out = outputDirectory();
    const before = tf.memory().numTensors;
    const run = await bench([
      "compare",
      ...["--objectives", "grpo,apo-no-stcr", "--seeds", "2", "--steps", "2", "--policy", "demo-init"],
      ...["--config", tinyConfig(out), "--set", "rollout.maxNewTokens=4"],
      ...["--out", out, "-q"],
    ]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    for (const chart of ["held-out-accuracy", "entropy", "length-incorrect", "kl"])
      expect(readFileSync(join(out, `compare-${chart}.svg`), "utf8")).toContain("<polyline");

    const results = readRecord(out, "compare").results as {
      config: { train: Record<string, number>; rollout: Record<string, number> };
      summaries: ReadonlyArray<CompareSummary>;
      runs: ReadonlyArray<CompareRun>;
    };
    expect(results.config.train).toMatchObject({ steps: 2, evalEvery: 2, promptsPerStep: 2 });
    expect(results.config.rollout).toMatchObject({ maxNewTokens: 4, groupSize: 2 });
    expect(results.runs.map((entry) => `${entry.label}/${entry.seed}`)).toEqual([
      "grpo/0",
      "apo-no-stcr/0",
      "grpo/1",
      "apo-no-stcr/1",
    ]);
    for (const entry of results.runs) {
      expect(entry.backend).toBe("wasm");
      expect(entry.entropy).toHaveLength(2);
      expect(entry.kl).toHaveLength(2);
      expect(entry.heldOutAccuracyAfter).toBeGreaterThanOrEqual(0);
      expect(entry.heldOutAccuracyAfter).toBeLessThanOrEqual(1);
      expect(existsSync(join(entry.runDir, "summary.json"))).toBe(true);
    }
    // Both objectives start from the same policy for a seed: the same accuracy before training.
    const bySeed = (seed: number) => results.runs.filter((entry) => entry.seed === seed);
    for (const seed of [0, 1]) {
      const [first, second] = bySeed(seed);
      expect(first!.heldOutAccuracyBefore).toBe(second!.heldOutAccuracyBefore);
    }
    // The summary's mean ± std re-derive from the runs.
    for (const summary of results.summaries) {
      const runs = results.runs.filter((entry) => entry.label === summary.label);
      const after = runs.map((entry) => entry.heldOutAccuracyAfter!);
      expect(summary.heldOutAccuracyAfter.mean).toBeCloseTo(mean(after)!, 12);
      expect(summary.heldOutAccuracyAfter.std).toBeCloseTo(standardDeviation(after)!, 12);
      expect(summary.heldOutAccuracyAfter.n).toBe(2);
      expect(summary.entropyTrajectory).toHaveLength(2);
      expect(summary.heldOutTrajectory.map(([step]) => step)).toEqual([0, 2]);
      expect(summary.heldOutTrajectory[1]![1]).toBeCloseTo(mean(after)!, 12);
      expect(summary.entropyTrajectory[0]).toBeCloseTo(mean(runs.map((entry) => entry.entropy[0]!))!, 12);
    }
    const rows = tableRows(out, "compare");
    expect(rows.map((row) => row[0])).toEqual(["grpo", "apo-no-stcr"]);
    expect(rows[0]![3]).toBe(
      `${results.summaries[0]!.heldOutAccuracyAfter.mean!.toFixed(3)} ± ${results.summaries[0]!.heldOutAccuracyAfter.std!.toFixed(3)}`,
    );
  });

  it("--reuse-runs reads back finished runs of the same config: disjoint seed lists summarise together", async () => {
    const out = outputDirectory();
    const runsDirectory = join(out, "runs");
    const common = [
      ...["--objectives", "grpo,apo", "--steps", "2", "--policy", "demo-init"],
      ...["--config", tinyConfig(out), "--set", "rollout.maxNewTokens=4", "--runs-dir", runsDirectory, "-q"],
    ];
    // Two "processes" over disjoint seeds, then the whole study from the same runs directory.
    for (const seed of ["0", "1"]) {
      const part = await bench([
        "compare",
        ...common,
        "--seed-list",
        seed,
        "--out",
        join(out, `part-${seed}`),
      ]);
      expect(part.status).toBe(0);
    }
    const metricsFile = (label: string, seed: number) =>
      join(runsDirectory, label, `seed-${seed}`, "metrics.jsonl");
    const written = (label: string, seed: number) => statSync(metricsFile(label, seed)).mtimeMs;
    const before = { grpo0: written("grpo", 0), apo1: written("apo", 1) };
    const whole = await bench([
      "compare",
      ...common,
      "--seeds",
      "2",
      "--reuse-runs",
      "--out",
      join(out, "whole"),
    ]);
    expect(whole.status).toBe(0);
    expect(written("grpo", 0)).toBe(before.grpo0);
    expect(written("apo", 1)).toBe(before.apo1);
    const results = (directory: string) =>
      readRecord(join(out, directory), "compare").results as { runs: ReadonlyArray<CompareRun> };
    const parts = [...results("part-0").runs, ...results("part-1").runs];
    const wholeRuns = results("whole").runs;
    expect(wholeRuns.map((entry) => `${entry.label}/${entry.seed}`)).toEqual([
      "grpo/0",
      "apo/0",
      "grpo/1",
      "apo/1",
    ]);
    for (const entry of wholeRuns)
      expect(entry).toEqual(parts.find((part) => part.label === entry.label && part.seed === entry.seed));

    // Not reused: another config (here a longer response budget) and an interrupted run train again.
    const summaryFile = join(runsDirectory, "apo", "seed-1", "summary.json");
    writeFileSync(
      summaryFile,
      JSON.stringify({ ...JSON.parse(readFileSync(summaryFile, "utf8")), interrupted: true }),
    );
    const again = await bench([
      "compare",
      ...common,
      "--seeds",
      "2",
      "--reuse-runs",
      "--out",
      join(out, "again"),
    ]);
    expect(again.status).toBe(0);
    expect(written("grpo", 0)).toBe(before.grpo0);
    expect(written("apo", 1)).not.toBe(before.apo1);
    const changed = await bench([
      "compare",
      ...common,
      ...[
        "--seed-list",
        "0",
        "--reuse-runs",
        "--set",
        "rollout.maxNewTokens=5",
        "--out",
        join(out, "changed"),
      ],
    ]);
    expect(changed.status).toBe(0);
    expect(written("grpo", 0)).not.toBe(before.grpo0);
  });

  it("--task reasoning: option variants, mechanism telemetry per objective and paired differences vs grpo", async () => {
    const out = outputDirectory();
    const run = await bench([
      "compare",
      ...["--task", "reasoning", "--objectives", "grpo,apo[stcrBase=1.01,beta=0.04]", "--seeds", "2"],
      ...["--steps", "2", "--policy", "demo-init"],
      ...[
        "--set",
        "data.heldOutSize=3",
        "--set",
        "data.synthetic.trainSize=8",
        "--set",
        "rollout.groupSize=4",
      ],
      ...["--set", "rollout.maxNewTokens=6", "--set", "train.promptsPerStep=2"],
      ...["--out", out, "-q"],
    ]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const results = readRecord(out, "compare").results as {
      config: { data: { synthetic: Record<string, unknown> }; objective: unknown };
      summaries: ReadonlyArray<CompareSummary>;
      runs: ReadonlyArray<CompareRun>;
    };
    expect(results.config.data.synthetic).toMatchObject({ task: "reasoning", maxCount: 6 });
    const [grpo, apo] = results.summaries;
    expect(apo!.label).toBe("apo[stcrBase=1.01,beta=0.04]");
    expect(apo!.objective).toBe("apo");
    expect(apo!.options).toEqual({ stcrBase: 1.01, beta: 0.04 });
    for (const summary of results.summaries) {
      const runs = results.runs.filter((entry) => entry.label === summary.label);
      for (const entry of runs) expect(entry.mechanism.difficultyMean).toHaveLength(2);
      // Per run: the mean over steps; the DADS minimum and maximum over the whole run.
      const perRun = runs.map((entry) => mean(entry.mechanism.difficultyMean.map((value) => value!))!);
      expect(summary.difficultyMean.mean).toBeCloseTo(mean(perRun)!, 12);
      expect(summary.difficultyMean.n).toBe(2);
      const minima = runs.flatMap((entry) => {
        const values = entry.mechanism.dadsWeightMin.filter((value): value is number => value !== null);
        return values.length === 0 ? [] : [Math.min(...values)];
      });
      expect(summary.dadsWeightMin.n).toBe(minima.length);
      if (minima.length > 0) expect(summary.dadsWeightMin.mean).toBeCloseTo(mean(minima)!, 12);
    }
    // GRPO neither penalises nor re-weights: fraction 0, every DADS weight 1.
    expect(grpo!.stcrPenalisedFraction.mean).toBe(0);
    for (const key of ["dadsWeightMin", "dadsWeightMax", "dadsWeightMean"] as const)
      if (grpo![key].n > 0) expect(grpo![key].mean).toBe(1);
    expect(grpo!.versusGrpo).toBeUndefined();
    // Seed-paired difference from grpo, re-derived from the runs.
    const after = (label: string) =>
      [0, 1].map((seed) => results.runs.find((entry) => entry.label === label && entry.seed === seed)!);
    const differences = after(apo!.label).map(
      (entry, index) => entry.heldOutAccuracyAfter! - after("grpo")[index]!.heldOutAccuracyAfter!,
    );
    expect(apo!.versusGrpo!.heldOutAccuracyAfter.n).toBe(2);
    expect(apo!.versusGrpo!.heldOutAccuracyAfter.mean).toBeCloseTo(mean(differences)!, 12);
    // 95 % t-interval with one degree of freedom: ± 12.7062 · std / √2.
    const half = 12.706205 * (standardDeviation(differences)! / Math.SQRT2);
    expect(apo!.versusGrpo!.heldOutAccuracyAfter.high).toBeCloseTo(mean(differences)! + half, 5);
    // Three tables: the comparison, the mechanisms, the paired differences.
    expect(tableRows(out, "compare", 1).map((row) => row[0])).toEqual(["grpo", apo!.label]);
    expect(tableRows(out, "compare", 1)[0]![1]).toBe("0.000 ± 0.000");
    expect(tableRows(out, "compare", 2).map((row) => row[0])).toEqual([apo!.label]);
    for (const chart of ["stcr-penalised", "dads-weight"])
      expect(readFileSync(join(out, `compare-${chart}.svg`), "utf8")).toContain("<svg");
  });

  it("rejects a bad trainer override or objective before training, with status 2", async () => {
    const override = await bench([
      "compare",
      "--policy",
      "demo-init",
      "--set",
      "optimizer.learningRate=1",
      "-q",
    ]);
    expect(override.status).toBe(2);
    expect(override.stderr).toContain("optimizer.learningRate: unknown key");
    const objective = await bench(["compare", "--objectives", "apo,ppo-magic", "-q"]);
    expect(objective.status).toBe(2);
    expect(objective.stderr).toContain("ppo-magic");
    const option = await bench([
      "compare",
      "--objectives",
      "apo[stcrBase=0.5]",
      "--policy",
      "demo-init",
      "-q",
    ]);
    expect(option.status).toBe(2);
    expect(option.stderr).toContain("stcrBase");
    const bracket = await bench(["compare", "--objectives", "grpo,apo[beta=0.01", "-q"]);
    expect(bracket.status).toBe(2);
    expect(bracket.stderr).toContain('unclosed "["');
  });
});
