import { type ChildProcess, spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { listCheckpoints } from "../src/checkpoint.js";
import { PreflightError, RunLockError } from "../src/errors.js";
import { preflight } from "../src/preflight.js";
import { runCli } from "../src/runCli.js";
import { acquireRunLock, RUN_LOCK_FILE } from "../src/runLock.js";
import { samplerCursor } from "../src/TrainingData.js";
import { examples, makePolicy } from "./support/sayNumberTask.js";

const child = fileURLToPath(new URL("./support/cliChild.mjs", import.meta.url));

const demoYaml = (runDir: string, steps: number) => `model: { checkpoint: demo }
data: { format: synthetic, heldOutSize: 0, synthetic: { trainSize: 16, difficulty: 0.2 } }
rollout: { groupSize: 2, maxNewTokens: 6 }
reward: { preset: view-r1, accuracy: counting, workers: 0 }
objective: { name: apo }
optimizer: { lr: 0.0001, schedule: constant }
train: { steps: ${steps}, promptsPerStep: 1 }
output: { runDir: ${JSON.stringify(runDir)} }
backend: cpu
`;

/** Start `apo-train` as its own process; `output()` is what it printed so far. */
const start = (argv: ReadonlyArray<string>) => {
  const process_: ChildProcess = spawn(process.execPath, [child, ...argv], { stdio: "pipe" });
  let stderr = "";
  let stdout = "";
  process_.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  process_.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => process_.on("exit", (code) => resolve(code)));
  return { process: process_, exited, output: () => ({ stderr, stdout }) };
};

const waitFor = async (condition: () => boolean, what: string, timeoutMs = 90_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

const quietCli = async (argv: ReadonlyArray<string>) => {
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

const tabularYaml = (runDir: string) => `model: { checkpoint: tabular }
data: { format: synthetic }
rollout: { groupSize: 4, maxNewTokens: 2 }
reward: { preset: accuracy, accuracy: counting, workers: 0 }
objective: { name: grpo, options: { beta: 0 } }
optimizer: { lr: 0.3 }
train: { steps: 2, promptsPerStep: 2, seed: 5 }
output: { runDir: ${JSON.stringify(runDir)} }
backend: cpu
`;

describe("run-directory lock", () => {
  it("a second apo-train on the same run directory fails non-zero naming the lock and its owner; the first's files stay intact", async () => {
    const directory = mkdtempSync(join(tmpdir(), "apo-lock-"));
    const runDir = join(directory, "run");
    writeFileSync(join(directory, "run.yaml"), demoYaml(runDir, 500));
    const first = start(["--config", join(directory, "run.yaml")]);
    try {
      await waitFor(() => /step 2\/500/.test(first.output().stderr), "the first run's second step");
      // The second run: this test's process, through the same CLI entry point and default hooks.
      const second = { stderr: "" };
      const status = await runCli(
        ["--config", join(directory, "run.yaml")],
        {
          stdout: () => {},
          stderr: (text) => {
            second.stderr += text;
          },
        },
        { handleSignals: false, progress: () => {} },
      );
      expect(status).toBe(1);
      expect(second.stderr).toContain(
        `apo-train: Run directory lock ${join(runDir, RUN_LOCK_FILE)}: held by pid ${first.process.pid}`,
      );
      first.process.kill("SIGTERM");
      expect(await first.exited).toBe(130);
    } finally {
      first.process.kill("SIGKILL");
    }
    const steps = readFileSync(join(runDir, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { kind: string; step: number })
      .filter((record) => record.kind === "train")
      .map((record) => record.step);
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, index) => index + 1));
    const saved = await listCheckpoints(join(runDir, "checkpoints"));
    expect(saved.map((location) => location.step)).toEqual([steps.length]);
    expect(JSON.parse(readFileSync(join(runDir, "config.json"), "utf8")).train.steps).toBe(500);
    expect(existsSync(join(runDir, RUN_LOCK_FILE))).toBe(false);
  });

  it("takes over a stale lock (dead pid) and says so; refuses a live owner", async () => {
    const runDir = mkdtempSync(join(tmpdir(), "apo-lock-"));
    const lockFile = join(runDir, RUN_LOCK_FILE);
    // A pid that cannot exist (above Linux's pid_max).
    writeFileSync(lockFile, JSON.stringify({ pid: 99_999_999, host: hostname(), startedAt: "then" }));
    const logged: string[] = [];
    const lock = await acquireRunLock(runDir, (line) => logged.push(line));
    expect(logged.join("\n")).toContain(`taking over the stale run lock ${lockFile} of pid 99999999`);
    expect(JSON.parse(readFileSync(lockFile, "utf8")).pid).toBe(process.pid);
    await expect(acquireRunLock(runDir)).rejects.toThrow(RunLockError);
    await expect(acquireRunLock(runDir)).rejects.toThrow(`held by pid ${process.pid}`);
    await lock.release();
    expect(existsSync(lockFile)).toBe(false);
  });
});

describe("preflight", () => {
  it("a checkpoints/ that cannot be written fails before the first step", async () => {
    const directory = mkdtempSync(join(tmpdir(), "apo-preflight-"));
    const runDir = join(directory, "run");
    mkdirSync(runDir);
    // A file where the checkpoints directory should be: not writable as a directory, even for root.
    writeFileSync(join(runDir, "checkpoints"), "");
    writeFileSync(join(directory, "run.yaml"), tabularYaml(runDir));
    const run = await quietCli(["--config", join(directory, "run.yaml")]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`apo-train: Preflight check failed for ${join(runDir, "checkpoints")}`);
    expect(existsSync(join(runDir, "metrics.jsonl"))).toBe(false);
  });

  it.skipIf(process.getuid?.() === 0)(
    "a read-only checkpoints/ fails before the first step (not checkable as root)",
    async () => {
      const directory = mkdtempSync(join(tmpdir(), "apo-preflight-"));
      const runDir = join(directory, "run");
      mkdirSync(join(runDir, "checkpoints"), { recursive: true });
      chmodSync(join(runDir, "checkpoints"), 0o555);
      writeFileSync(join(directory, "run.yaml"), tabularYaml(runDir));
      const run = await quietCli(["--config", join(directory, "run.yaml")]);
      chmodSync(join(runDir, "checkpoints"), 0o755);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/checkpoints\/ is not writable \(EACCES\)/);
      expect(existsSync(join(runDir, "metrics.jsonl"))).toBe(false);
    },
  );

  it.skipIf(process.getuid?.() === 0)(
    "a read-only run directory is a clear error (not checkable as root)",
    async () => {
      const directory = mkdtempSync(join(tmpdir(), "apo-preflight-"));
      const runDir = join(directory, "run");
      mkdirSync(runDir);
      chmodSync(runDir, 0o555);
      writeFileSync(join(directory, "run.yaml"), tabularYaml(runDir));
      const run = await quietCli(["--config", join(directory, "run.yaml")]);
      chmodSync(runDir, 0o755);
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(
        /Preflight check failed for .*: the run directory is not writable \(EACCES\)/,
      );
    },
  );

  it("writes and deletes its probes, and compares the free space with one checkpoint", async () => {
    const runDir = mkdtempSync(join(tmpdir(), "apo-preflight-"));
    const checkpoints = join(runDir, "checkpoints");
    mkdirSync(checkpoints);
    await preflight({
      runDirectory: runDir,
      checkpoints,
      checkpointBytes: 1000,
      freeBytes: async () => 1000,
    });
    expect([...readdirSync(runDir), ...readdirSync(checkpoints)]).toEqual(["checkpoints"]);
    const full = preflight({
      runDirectory: runDir,
      checkpoints,
      checkpointBytes: 3 * 2 ** 20,
      freeBytes: async () => 2 ** 20,
    });
    await expect(full).rejects.toThrow(PreflightError);
    await expect(full).rejects.toThrow(
      "only 1.0 MiB free on its disk, but one checkpoint needs about 3.0 MiB",
    );
  });

  it("an uncreatable run directory is a clear error, not a raw EACCES", async () => {
    const directory = mkdtempSync(join(tmpdir(), "apo-preflight-"));
    writeFileSync(join(directory, "file"), "");
    writeFileSync(join(directory, "run.yaml"), tabularYaml(join(directory, "file", "run")));
    const run = await quietCli(["--config", join(directory, "run.yaml")]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/Preflight check failed for .*: cannot create the run directory \(ENOTDIR\)/);
  });
});
