import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configDifferences } from "../src/resumeConfigCheck.js";
import { runCli } from "../src/runCli.js";
import { samplerCursor } from "../src/TrainingData.js";
import { examples, makePolicy } from "./support/sayNumberTask.js";

const yaml = (runDir: string) => `model: { checkpoint: tabular }
data: { format: synthetic }
rollout: { groupSize: 4, maxNewTokens: 2 }
reward: { preset: accuracy, accuracy: counting, workers: 0 }
objective: { name: grpo, options: { beta: 0 } }
optimizer: { lr: 0.3 }
train: { steps: 2, promptsPerStep: 2, seed: 5 }
output: { runDir: ${JSON.stringify(runDir)} }
backend: cpu
`;

const cli = async (argv: ReadonlyArray<string>) => {
  const out = { stdout: "", stderr: "" };
  const status = await runCli(
    argv,
    {
      stdout: (text) => {
        out.stdout += text;
      },
      stderr: (text) => {
        out.stderr += text;
      },
    },
    {
      handleSignals: false,
      progress: () => {},
      hooks: {
        createPolicy: async () => makePolicy(),
        createData: async () => ({ train: samplerCursor(examples, 2), heldOut: [] }),
      },
    },
  );
  return { status, ...out };
};

const trainSteps = (runDir: string) =>
  readFileSync(join(runDir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { kind: string; step: number })
    .filter((record) => record.kind === "train")
    .map((record) => record.step);

const setUp = async () => {
  const directory = mkdtempSync(join(tmpdir(), "apo-resume-config-"));
  const runDir = join(directory, "run");
  const file = join(directory, "run.yaml");
  writeFileSync(file, yaml(runDir));
  const first = await cli(["--config", file]);
  expect(first.status, first.stderr).toBe(0);
  return { runDir, file };
};

describe("--resume checks the config", () => {
  it("refuses a changed optimizer.lr listing each difference; --allow-config-change proceeds and logs it", async () => {
    const { runDir, file } = await setUp();
    const refused = await cli([
      ...["--config", file, "--resume", "--set", "train.steps=3"],
      ...["--set", "optimizer.lr=0.1", "--set", "train.seed=6"],
    ]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(
      `apo-train: Cannot resume with this config (${join(runDir, "checkpoints", "step-00000002", "trainer-config.json")}): 2 keys that change the training trajectory differ from the checkpoint's config (pass --allow-config-change to accept them)\n  optimizer.lr: 0.3 → 0.1\n  train.seed: 5 → 6\n`,
    );
    expect(trainSteps(runDir)).toEqual([1, 2]);
    expect(JSON.parse(readFileSync(join(runDir, "config.json"), "utf8")).optimizer.lr).toBe(0.3);

    const allowed = await cli([
      ...["--config", file, "--resume", "--allow-config-change", "--set", "train.steps=3"],
      ...["--set", "optimizer.lr=0.1"],
    ]);
    expect(allowed.status, allowed.stderr).toBe(0);
    expect(allowed.stderr).toContain(
      "resume: config changed optimizer.lr: 0.3 → 0.1 (changes the training trajectory; allowed by --allow-config-change)",
    );
    expect(allowed.stderr).toContain("resume: config changed train.steps: 2 → 3\n");
    expect(JSON.parse(allowed.stdout)).toMatchObject({ steps: 3, resumedFrom: 2 });
    expect(trainSteps(runDir)).toEqual([1, 2, 3]);
  });

  it("--set train.steps=<more> extends the run; fewer steps than done is an error", async () => {
    const { runDir, file } = await setUp();
    const fewer = await cli(["--config", file, "--resume", "--set", "train.steps=1"]);
    expect(fewer.status).toBe(2);
    expect(fewer.stderr).toContain("train.steps is 1 but the checkpoint already holds 2 steps");
    const extended = await cli([
      ...["--config", file, "--resume", "--set", "train.steps=4", "--set", "train.evalEvery=0"],
    ]);
    expect(extended.status, extended.stderr).toBe(0);
    expect(JSON.parse(extended.stdout)).toMatchObject({ steps: 4, plannedSteps: 4, resumedFrom: 2 });
    expect(extended.stderr).toContain("resume: config changed train.steps: 2 → 4");
    expect(trainSteps(runDir)).toEqual([1, 2, 3, 4]);
  });

  it("a garbage trainer-state.json is named in the error", async () => {
    const { runDir, file } = await setUp();
    const state = join(runDir, "checkpoints", "step-00000002", "trainer-state.json");
    writeFileSync(state, "garbage");
    const run = await cli(["--config", file, "--resume", "--set", "train.steps=3"]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`apo-train: Checkpoint ${state}: not valid JSON: Unexpected token`);
  });

  it("lists leaf differences, arrays as wholes", () => {
    expect(
      configDifferences({ a: { b: 1, c: [1, 2] }, d: "x" }, { a: { b: 2, c: [1, 3] }, d: "x", e: true }).map(
        (difference) => difference.key,
      ),
    ).toEqual(["a.b", "a.c", "e"]);
  });
});

describe("exit codes", () => {
  it("an unknown objective exits 2", async () => {
    const directory = mkdtempSync(join(tmpdir(), "apo-resume-config-"));
    const file = join(directory, "run.yaml");
    writeFileSync(file, yaml(join(directory, "run")));
    const run = await cli(["--config", file, "--set", "objective.name=nope"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/nope/);
  });
});
