import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { listCheckpoints } from "../src/checkpoint.js";

const child = fileURLToPath(new URL("./support/interruptedRunChild.mjs", import.meta.url));

const config = (runDir: string) => `model: { checkpoint: tabular }
data: { format: synthetic }
rollout: { groupSize: 4, maxNewTokens: 2 }
reward: { preset: accuracy, accuracy: counting, workers: 0 }
objective: { name: apo }
optimizer: { lr: 0.3 }
train: { steps: 50, promptsPerStep: 2, saveEvery: 20 }
output: { runDir: ${JSON.stringify(runDir)} }
backend: cpu
`;

/** Run apo-train in a child; send `signal` once `afterStep` steps are done. */
const runChild = (
  argv: ReadonlyArray<string>,
  signal?: { readonly name: NodeJS.Signals; readonly afterStep: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, [child, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let sent = false;
    process_.stdout.on("data", (data: Buffer) => {
      stdout += data.toString();
      if (signal !== undefined && !sent && stdout.includes(`step ${signal.afterStep}/`)) {
        sent = true;
        process_.kill(signal.name);
      }
    });
    process_.stderr.on("data", (data: Buffer) => {
      stderr += data.toString();
    });
    process_.on("error", reject);
    process_.on("exit", (code) => resolve({ code, stdout, stderr }));
  });

describe("signals", () => {
  it("SIGINT finishes the step, writes a checkpoint, exits 130; --resume completes the run", async () => {
    const directory = mkdtempSync(join(tmpdir(), "apo-signal-"));
    const runDir = join(directory, "run");
    const file = join(directory, "run.yaml");
    writeFileSync(file, config(runDir));

    const interrupted = await runChild(["--config", file, "--set", "data.synthetic.trainSize=4"], {
      name: "SIGINT",
      afterStep: 3,
    });
    expect(interrupted.stderr).toContain("SIGINT: finishing the current step, then writing a checkpoint");
    expect(interrupted.code).toBe(130);
    const saved = await listCheckpoints(join(runDir, "checkpoints"));
    expect(saved).toHaveLength(1);
    const stoppedAt = saved[0]!.step;
    expect(stoppedAt).toBeGreaterThanOrEqual(3);
    expect(stoppedAt).toBeLessThan(50);
    expect(interrupted.stderr).toContain(`interrupted after step ${stoppedAt}; continue with --resume`);

    const resumed = await runChild([
      "--config",
      file,
      "--set",
      "data.synthetic.trainSize=4",
      "--set",
      "train.steps=" + String(stoppedAt + 2),
      "--resume",
    ]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`resumed from ${saved[0]!.path} (step ${stoppedAt})`);
    const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8"));
    expect(summary).toMatchObject({ steps: stoppedAt + 2, resumedFrom: stoppedAt, interrupted: false });
  });
});
