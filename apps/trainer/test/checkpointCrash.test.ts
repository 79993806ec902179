import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { AdamW } from "../src/AdamW.js";
import {
  latestCheckpoint,
  listCheckpoints,
  loadTrainingCheckpoint,
  removeStaleTemporaries,
} from "../src/checkpoint.js";
import { useBackend } from "./support/backends.js";
import { makePolicy } from "./support/sayNumberTask.js";

const child = fileURLToPath(new URL("./support/crashingCheckpointChild.mjs", import.meta.url));

/** Start the writer, wait until it is in the middle of the second checkpoint, SIGKILL it. */
const killMidWrite = (root: string): Promise<{ savedWeights: number[]; signal: NodeJS.Signals | null }> =>
  new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, [child, root], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let errors = "";
    let savedWeights: number[] = [];
    process_.stderr.on("data", (data: Buffer) => {
      errors += data.toString();
    });
    process_.stdout.on("data", (data: Buffer) => {
      output += data.toString();
      const saved = /^saved (.*)$/m.exec(output);
      if (saved !== null) savedWeights = JSON.parse(saved[1]!) as number[];
      if (output.includes("writing\n")) process_.kill("SIGKILL");
    });
    process_.on("error", reject);
    process_.on("exit", (_code, signal) => {
      if (signal !== "SIGKILL")
        reject(new Error(`the writer was not killed mid-write:\n${output}\n${errors}`));
      else resolve({ savedWeights, signal });
    });
  });

describe("checkpoint crash safety", () => {
  it("a process killed while writing a checkpoint leaves the previous one loadable", async () => {
    await useBackend("cpu");
    const root = mkdtempSync(join(tmpdir(), "apo-crash-"));
    const { savedWeights } = await killMidWrite(root);
    expect(savedWeights.length).toBeGreaterThan(0);

    const leftovers = readdirSync(root);
    expect(leftovers.some((entry) => entry.startsWith(".tmp-step-00000002"))).toBe(true);
    expect((await listCheckpoints(root)).map((location) => location.step)).toEqual([1]);

    const location = (await latestCheckpoint(root))!;
    const policy = makePolicy(99);
    const optimizer = new AdamW(policy.trainableParameters(), {
      betas: [0.9, 0.99],
      eps: 1e-8,
      weightDecay: 0,
    });
    const state = await loadTrainingCheckpoint(location, { policy, optimizer });
    expect(state).toEqual({
      step: 1,
      randomState: 12345,
      dataCursor: { epoch: 0, index: 2, seed: 1 },
      consecutiveNonFinite: 0,
    });
    expect(Array.from(policy.table.dataSync())).toEqual(savedWeights);
    expect(optimizer.step).toBe(1);

    expect(await removeStaleTemporaries(root)).toBe(1);
    expect(readdirSync(root)).toEqual(["step-00000001"]);
    optimizer.dispose();
    policy.dispose();
  });
});
