import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { listCheckpoints } from "../src/checkpoint.js";
import { CheckpointError } from "../src/errors.js";
import type { MetricsRecord } from "../src/metrics.js";
import type { TrainerConfig } from "../src/TrainerConfig.js";
import { samplerCursor } from "../src/TrainingData.js";
import { train } from "../src/train.js";
import { testBackends, useBackend } from "./support/backends.js";
import { examples, makePolicy, taskConfig } from "./support/sayNumberTask.js";

const quiet = { log: () => {}, handleSignals: false } as const;

/** Train a fresh policy; abort (checkpoint + stop) once `stopAfter` steps are done. */
const run = async (config: TrainerConfig, options: { resume?: boolean; stopAfter?: number } = {}) => {
  const policy = makePolicy();
  const controller = new AbortController();
  const summary = await train(config, {
    ...quiet,
    ...(options.resume === undefined ? {} : { resume: options.resume }),
    stopSignal: controller.signal,
    progress: (line) => {
      if (options.stopAfter !== undefined && line.startsWith(`step ${options.stopAfter}/`))
        controller.abort();
    },
    hooks: {
      createPolicy: async () => policy,
      // The cursor seed differs from the policy seed on purpose: both must be restored.
      createData: async () => ({ train: samplerCursor(examples.slice(0, 3), 11), heldOut: examples }),
    },
  });
  const weights = Array.from(policy.table.dataSync());
  policy.dispose();
  return { summary, weights };
};

for (const backend of testBackends) {
  describe(`resume on ${backend}`, () => {
    it("4 steps straight and 2 + resume + 2 give identical weights", async () => {
      await useBackend(backend);
      const configFor = (runDir: string): TrainerConfig => ({
        ...taskConfig(runDir, { steps: 4, promptsPerStep: 2, maxTokensPerMicroBatch: 8, evalEvery: 2 }),
        backend,
      });
      const straight = await run(configFor(mkdtempSync(join(tmpdir(), "apo-straight-"))));
      const resumedDir = mkdtempSync(join(tmpdir(), "apo-resumed-"));
      const first = await run(configFor(resumedDir), { stopAfter: 2 });
      expect(first.summary).toMatchObject({ steps: 2, interrupted: true });
      expect(
        (await listCheckpoints(join(resumedDir, "checkpoints"))).map((location) => location.step),
      ).toEqual([2]);
      expect(first.weights).not.toEqual(straight.weights);

      const second = await run(configFor(resumedDir), { resume: true });
      expect(second.summary).toMatchObject({ steps: 4, interrupted: false, resumedFrom: 2 });
      expect(second.weights).toEqual(straight.weights);

      const records = readFileSync(join(resumedDir, "metrics.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as MetricsRecord);
      expect(records.filter((record) => record.kind === "train").map((record) => record.step)).toEqual([
        1, 2, 3, 4,
      ]);
      expect(second.summary.heldOutAccuracyBefore).not.toBeNull();
    });
  });
}

describe("resume errors", () => {
  it("refuses --resume without a checkpoint and a fresh start over an existing run", async () => {
    await useBackend("cpu");
    const runDir = mkdtempSync(join(tmpdir(), "apo-resume-"));
    const config = taskConfig(runDir, { steps: 1, promptsPerStep: 2 });
    await expect(run(config, { resume: true })).rejects.toThrow(
      /--resume given but there is no complete checkpoint/,
    );
    await run(config);
    const error = await run(config).catch((cause: unknown) => cause);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).reason).toContain("pass --resume");
  });
});
