import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../src/runCli.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const trainer = fileURLToPath(new URL("../", import.meta.url));
const gitStatus = () => execFileSync("git", ["status", "--porcelain"], { cwd: root, encoding: "utf8" });

/**
 * A contributor's objective, written outside the workspace against the public API of
 * @apo-rl/objectives as installed from its packed tarball: REINFORCE with a leave-one-out baseline
 * and a token-mean over the whole step.
 */
const pluginSource = `
import * as tf from "@tensorflow/tfjs-core";
import {
  binaryMask,
  checkMicroBatch,
  checkSampleBatch,
  defineObjective,
  maskedValues,
  mean,
  registerObjective,
  stepAggregate,
} from "@apo-rl/objectives";
import { Schema } from "effect";

const leaveOneOut = (batch) => {
  checkSampleBatch("pluginReinforce", batch);
  return batch.rewards.map((reward, index) => {
    const start = index - (index % batch.groupSize);
    const others = batch.rewards.slice(start, start + batch.groupSize).filter((_, at) => start + at !== index);
    return reward - mean(others);
  });
};

registerObjective(
  "pluginReinforce",
  () =>
    defineObjective({
      name: "pluginReinforce",
      metricNames: ["loss", "policyLoss"],
      usesReference: () => false,
      advantages: (batch) => ({ perSample: { advantage: leaveOneOut(batch) }, metrics: {} }),
      microBatchLoss: (input) => {
        checkMicroBatch("pluginReinforce", input);
        return tf.tidy(() => {
          const mask = binaryMask(input.mask);
          const advantage = tf.expandDims(tf.tensor1d(Float32Array.from(input.samples.advantage)), 1);
          const perToken = tf.neg(tf.mul(maskedValues(input.logp, mask), advantage));
          const loss = stepAggregate(perToken, mask, "token-mean", input.totals);
          return { loss, metrics: { loss, policyLoss: loss } };
        });
      },
    }),
  Schema.Struct({}),
);
`;

describe("apo-train --plugin", () => {
  it("trains 2 demo steps with an objective from a plugin outside the workspace, changing no repository file", async () => {
    const before = gitStatus();
    const work = mkdtempSync(join(tmpdir(), "apo-plugin-"));
    const tarballs = join(work, "tarballs");
    mkdirSync(tarballs);
    for (const name of ["core", "tensor", "objectives"])
      execFileSync("pnpm", ["pack", "--pack-destination", tarballs], {
        cwd: join(root, "packages", name),
        stdio: "ignore",
      });
    const tarball = (name: string) =>
      join(tarballs, readdirSync(tarballs).find((file) => file.includes(name))!);
    const project = join(work, "plugin");
    mkdirSync(project);
    const overrides = Object.fromEntries(
      ["core", "tensor", "objectives"].map((name) => [
        `@apo-rl/${name}`,
        `file:${tarball(`apo-rl-${name}-`)}`,
      ]),
    );
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "my-objective", private: true, type: "module", pnpm: { overrides } }),
    );
    execFileSync(
      "pnpm",
      [
        "add",
        `file:${tarball("apo-rl-objectives-")}`,
        "effect@4.1.0",
        "@tensorflow/tfjs-core@4.22.0",
        "--prefer-offline",
        "--config.auto-install-peers=false",
        "--silent",
      ],
      { cwd: project, stdio: ["ignore", "ignore", "inherit"] },
    );
    const plugin = join(project, "reinforce.mjs");
    writeFileSync(plugin, pluginSource);
    const runDir = join(work, "run");
    const stderr: string[] = [];
    const stdout: string[] = [];
    const status = await runCli(
      [
        ...["--config", join(trainer, "assets/demo/demo.yaml"), "--plugin", plugin],
        ...[
          "--set",
          "objective.name=pluginReinforce",
          "--set",
          "train.steps=2",
          "--set",
          "train.promptsPerStep=2",
        ],
        ...["--set", "rollout.groupSize=2", "--set", "train.evalEvery=0", "--set", "data.heldOutSize=0"],
        ...["--run-dir", runDir],
      ],
      { stdout: (text) => stdout.push(text), stderr: (text) => stderr.push(text) },
      { handleSignals: false, progress: () => {} },
    );
    expect(status, stderr.join("")).toBe(0);
    const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8")) as Record<string, unknown>;
    expect(summary).toMatchObject({ objective: "pluginReinforce", steps: 2, skippedSteps: 0 });
    const records = readFileSync(join(runDir, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(records.filter((record) => record.kind === "train")).toHaveLength(2);
    for (const record of records) expect(Number.isFinite(record.loss)).toBe(true);
    expect(gitStatus()).toBe(before);
  }, 300_000);

  it("names an unknown objective and what is registered; names a missing plugin", async () => {
    const stderr: string[] = [];
    const output = { stdout: () => {}, stderr: (text: string) => stderr.push(text) };
    const config = join(trainer, "assets/demo/demo.yaml");
    const missing = await runCli(
      ["--config", config, "--plugin", "./no-such-plugin.mjs", "--print-config"],
      output,
    );
    expect(missing).toBe(2);
    expect(stderr.join("")).toContain('plugin "./no-such-plugin.mjs": no such file');
    stderr.length = 0;
    const unknown = await runCli(
      [
        "--config",
        config,
        "--set",
        "objective.name=nope",
        "--set",
        "train.steps=1",
        "--run-dir",
        mkdtempSync(join(tmpdir(), "apo-unknown-")),
      ],
      output,
      { handleSignals: false, progress: () => {} },
    );
    expect(unknown).not.toBe(0);
    expect(stderr.join("")).toMatch(
      /Unknown objective "nope": registered objectives are grpo, drGrpo, dapo, grpoD, apo, gspo/,
    );
  });
});
