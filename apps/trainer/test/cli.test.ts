import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidInputError } from "@apo-rl/core";
import { describe, expect, it } from "vitest";
import { ConfigError, TrainerSetupError } from "../src/errors.js";
import { parseCliArguments } from "../src/internal/cliArguments.js";
import { describeFailure, exitStatusOf, runCli } from "../src/runCli.js";
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

describe("failures as the CLI prints them", () => {
  it("prints the typed error's message, and with --verbose its stack and cause chain", async () => {
    const missing = join(mkdtempSync(join(tmpdir(), "apo-cli-")), "absent.yaml");
    const plain = capture();
    expect(await runCli(["--config", missing], plain.output)).toBe(2);
    expect(plain.out.stderr).toBe(
      `apo-train: ${missing}: cannot read the file (ENOENT: no such file or directory, open '${missing}')\n` +
        "(run with --verbose for its cause)\n",
    );
    const verbose = capture();
    expect(await runCli(["--verbose", "--config", missing], verbose.output)).toBe(2);
    const lines = verbose.out.stderr.split("\n");
    expect(lines[0]).toBe(
      `apo-train: ${missing}: cannot read the file (ENOENT: no such file or directory, open '${missing}')`,
    );
    expect(lines[1]).toBe(
      `  ConfigError: ${missing}: cannot read the file (ENOENT: no such file or directory, open '${missing}')`,
    );
    expect(lines[2]).toMatch(/^ {4}at .*readConfigFile/);
    expect(lines).toContain(`  caused by Error: ENOENT: no such file or directory, open '${missing}'`);
  });

  it("follows a chain of causes and stops at a cycle", () => {
    const root = new Error("disk on fire");
    const middle = new TrainerSetupError({ component: "policy", reason: "cannot load", cause: root });
    const top = new ConfigError({ source: "run.yaml", reason: "model.checkpoint failed", cause: middle });
    (root as { cause?: unknown }).cause = top;
    const text = describeFailure(top, { verbose: true });
    expect(text.split("\n").filter((line) => line.startsWith("  caused by"))).toEqual([
      "  caused by TrainerSetupError: Cannot set up policy: cannot load",
      "  caused by Error: disk on fire",
    ]);
    expect(describeFailure(new Error("plain"))).toBe("plain");
  });

  it("maps errors to the documented exit statuses", () => {
    const invalid = new InvalidInputError({
      subject: "trainer config",
      field: "x",
      reason: "bad",
      problems: [],
    });
    expect(exitStatusOf(invalid)).toBe(2);
    expect(exitStatusOf(new ConfigError({ source: "run.yaml", reason: "bad" }))).toBe(2);
    expect(exitStatusOf(new TrainerSetupError({ component: "policy", reason: "no weights" }))).toBe(1);
    expect(exitStatusOf(new Error("anything else"))).toBe(1);
  });
});
