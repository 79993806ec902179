import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, TrainerSetupError } from "../src/errors.js";
import { parseCliArguments } from "../src/internal/cliArguments.js";
import { runCli } from "../src/runCli.js";
import { samplerCursor } from "../src/TrainingData.js";
import { examples, makePolicy } from "./support/sayNumberTask.js";

const capture = () => {
  const out = { stdout: "", stderr: "" };
  return {
    out,
    output: {
      stdout: (text: string) => {
        out.stdout += text;
      },
      stderr: (text: string) => {
        out.stderr += text;
      },
    },
  };
};

const runYaml = (runDir: string) => `# the say-a-number task of the tests
model:
  checkpoint: tabular
data:
  format: synthetic
  heldOutSize: 4
  synthetic:
    trainSize: 8
rollout:
  groupSize: 4
  maxNewTokens: 2
reward:
  preset: accuracy
  accuracy: counting
  workers: 0
objective:
  name: grpo
  options:
    beta: 0
optimizer:
  lr: 0.3
train:
  steps: 2
  promptsPerStep: 2
output:
  runDir: ${runDir}
backend: cpu
`;

describe("command line arguments", () => {
  it("reads the config file, overrides and flags", () => {
    expect(
      parseCliArguments([
        "--config",
        "run.yaml",
        "--set",
        "optimizer.lr=1e-6",
        "--set=train.steps=3",
        "--run-dir",
        "runs/x",
        "--skip-invalid",
        "--resume",
        "--plugin",
        "./mine.mjs",
        "--plugin=some-package",
      ]),
    ).toEqual({
      command: "train",
      config: "run.yaml",
      overrides: ["optimizer.lr=1e-6", "train.steps=3", "output.runDir=runs/x", "data.skipInvalid=true"],
      plugins: ["./mine.mjs", "some-package"],
      resume: true,
      allowConfigChange: false,
      printConfig: false,
    });
    expect(parseCliArguments(["--config=run.json", "--print-config"]).printConfig).toBe(true);
    expect(parseCliArguments(["doctor"]).command).toBe("doctor");
    expect(parseCliArguments(["--config", "x", "--help"]).command).toBe("help");
  });

  it("rejects unknown options, missing values and a missing config", () => {
    expect(() => parseCliArguments(["--config", "a", "--lr", "1"])).toThrow(/unknown option "--lr"/);
    expect(() => parseCliArguments(["--config"])).toThrow(/--config needs a value/);
    expect(() => parseCliArguments(["--config", "a", "--set", "--resume"])).toThrow(/--set needs a value/);
    expect(() => parseCliArguments([])).toThrow(ConfigError);
  });
});

describe("runCli", () => {
  it("prints help and the resolved config", async () => {
    const help = capture();
    expect(await runCli(["--help"], help.output)).toBe(0);
    expect(help.out.stdout).toContain("apo-train --config run.yaml");
    const directory = mkdtempSync(join(tmpdir(), "apo-cli-"));
    writeFileSync(join(directory, "run.yaml"), runYaml(join(directory, "run")));
    const printed = capture();
    expect(
      await runCli(
        ["-c", join(directory, "run.yaml"), "--set", "optimizer.lr=0.01", "--print-config"],
        printed.output,
      ),
    ).toBe(0);
    const config = JSON.parse(printed.out.stdout);
    expect(config.optimizer).toMatchObject({ lr: 0.01, betas: [0.9, 0.999], schedule: "cosine" });
    expect(config.objective).toEqual({ name: "grpo", options: { beta: 0 } });
  });

  it("exits with 2 and names the key for config errors", async () => {
    const directory = mkdtempSync(join(tmpdir(), "apo-cli-"));
    const file = join(directory, "run.yaml");
    writeFileSync(file, runYaml(join(directory, "run")));
    const unknown = capture();
    expect(await runCli(["-c", file, "--set", "optimizer.momentum=0.9"], unknown.output)).toBe(2);
    expect(unknown.out.stderr).toBe(`apo-train: Invalid config ${file} at optimizer.momentum: unknown key\n`);
    const several = capture();
    expect(
      await runCli(["-c", file, "--set", "train.steps=0", "--set", "rollout.topP=2"], several.output),
    ).toBe(2);
    expect(several.out.stderr).toMatch(
      /^apo-train: Invalid config .*:\n {2}rollout\.topP: .*\n {2}train\.steps: /,
    );
  });

  it("trains from a YAML file with a policy hook and reports the summary", async () => {
    const directory = mkdtempSync(join(tmpdir(), "apo-cli-"));
    const file = join(directory, "run.yaml");
    const runDir = join(directory, "run");
    writeFileSync(file, runYaml(runDir));
    let policy: ReturnType<typeof makePolicy> | undefined;
    const run = capture();
    const status = await runCli(["--config", file], run.output, {
      handleSignals: false,
      progress: () => {},
      hooks: {
        // Built after the backend is initialised from the config.
        createPolicy: async () => {
          policy = makePolicy();
          return policy;
        },
        createData: async () => ({ train: samplerCursor(examples, 1), heldOut: [] }),
      },
    });
    expect(run.out.stderr).not.toContain("apo-train:");
    expect(status).toBe(0);
    expect(JSON.parse(run.out.stdout)).toMatchObject({ steps: 2, objective: "grpo", backend: "cpu" });
    expect(run.out.stderr).toContain("resolved config");
    expect(JSON.parse(readFileSync(join(runDir, "config.json"), "utf8")).train.steps).toBe(2);
    policy?.dispose();
  });

  it("fails with 1 and the component's message when a component cannot be built", async () => {
    const directory = mkdtempSync(join(tmpdir(), "apo-cli-"));
    const file = join(directory, "run.yaml");
    writeFileSync(file, runYaml(join(directory, "run")));
    const run = capture();
    const status = await runCli(["--config", file], run.output, {
      handleSignals: false,
      hooks: {
        createPolicy: async (config) => {
          throw new TrainerSetupError({
            component: "policy",
            reason: `no checkpoint at ${config.model.checkpoint}`,
          });
        },
      },
    });
    expect(status).toBe(1);
    // model.checkpoint is a path: resolved against the config file's directory.
    expect(run.out.stderr).toContain(
      `apo-train: Cannot set up policy: no checkpoint at ${join(directory, "tabular")}\n`,
    );
  });
});
