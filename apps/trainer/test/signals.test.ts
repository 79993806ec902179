import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listCheckpoints } from "../src/checkpoint.js";
import { runCli } from "../src/runCli.js";
import { samplerCursor } from "../src/TrainingData.js";
import { examples, makePolicy } from "./support/sayNumberTask.js";

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

// A real signal is sent to this test process. This guard listener keeps the process alive should
// the signal arrive after the trainer removed its own handlers.
const guard = () => {};
beforeEach(() => {
  process.on("SIGINT", guard);
  process.on("SIGTERM", guard);
});
afterEach(async () => {
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.removeListener("SIGINT", guard);
  process.removeListener("SIGTERM", guard);
});

const cli = async (argv: ReadonlyArray<string>, signal?: { name: NodeJS.Signals; afterStep: number }) => {
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
      progress: (line) => {
        if (signal !== undefined && line.startsWith(`step ${signal.afterStep}/`))
          process.kill(process.pid, signal.name);
      },
      hooks: {
        createPolicy: async () => makePolicy(),
        createData: async () => ({ train: samplerCursor(examples, 2), heldOut: [] }),
      },
    },
  );
  return { status, ...out };
};

describe("signals", () => {
  for (const name of ["SIGINT", "SIGTERM"] as const)
    it(`${name} finishes the step, writes a checkpoint, exits 130; --resume completes the run`, async () => {
      const directory = mkdtempSync(join(tmpdir(), "apo-signal-"));
      const runDir = join(directory, "run");
      const file = join(directory, "run.yaml");
      writeFileSync(file, config(runDir));

      const interrupted = await cli(["--config", file], { name, afterStep: 3 });
      expect(interrupted.stderr).toContain(`${name}: finishing the current step, then writing a checkpoint`);
      expect(interrupted.status).toBe(130);
      const saved = await listCheckpoints(join(runDir, "checkpoints"));
      expect(saved).toHaveLength(1);
      const stoppedAt = saved[0]!.step;
      expect(stoppedAt).toBeGreaterThanOrEqual(3);
      expect(stoppedAt).toBeLessThan(20);
      expect(interrupted.stderr).toContain(`interrupted after step ${stoppedAt}; continue with --resume`);
      expect(JSON.parse(interrupted.stdout)).toMatchObject({ interrupted: true, steps: stoppedAt });

      const resumed = await cli(["--config", file, "--set", `train.steps=${stoppedAt + 2}`, "--resume"]);
      expect(resumed.status).toBe(0);
      expect(resumed.stderr).toContain(`resumed from ${saved[0]!.path} (step ${stoppedAt})`);
      const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8"));
      expect(summary).toMatchObject({ steps: stoppedAt + 2, resumedFrom: stoppedAt, interrupted: false });
      expect(process.listenerCount(name)).toBe(1); // only the guard: the trainer removed its handler
    });
});
