import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkpointName, latestCheckpoint, listCheckpoints, writeCheckpoint } from "../src/checkpoint.js";
import { CheckpointError } from "../src/errors.js";

const writeNote = (text: string) => async (directory: string) => {
  writeFileSync(join(directory, "note.txt"), text);
};

describe("checkpoint directory", () => {
  it("names checkpoints by zero-padded step", () => {
    expect(checkpointName(42)).toBe("step-00000042");
  });

  it("keeps the newest keepLast complete checkpoints", async () => {
    const root = mkdtempSync(join(tmpdir(), "apo-checkpoints-"));
    for (const step of [1, 2, 3, 4])
      await writeCheckpoint(root, step, writeNote(`step ${step}`), { keepLast: 2 });
    expect((await listCheckpoints(root)).map((location) => location.step)).toEqual([3, 4]);
    expect(readdirSync(root).sort()).toEqual(["step-00000003", "step-00000004"]);
    const latest = await latestCheckpoint(root);
    expect(latest?.step).toBe(4);
    expect(readFileSync(join(latest!.path, "note.txt"), "utf8")).toBe("step 4");
    expect(JSON.parse(readFileSync(join(latest!.path, "checkpoint.json"), "utf8"))).toMatchObject({
      format: "apo-rl/checkpoint",
      version: 1,
      step: 4,
    });
  });

  it("replaces a checkpoint of the same step atomically", async () => {
    const root = mkdtempSync(join(tmpdir(), "apo-checkpoints-"));
    await writeCheckpoint(root, 5, writeNote("first"), { keepLast: 3 });
    await writeCheckpoint(root, 5, writeNote("second"), { keepLast: 3 });
    expect(readdirSync(root)).toEqual(["step-00000005"]);
    expect(readFileSync(join(root, "step-00000005", "note.txt"), "utf8")).toBe("second");
  });

  it("ignores directories without a matching manifest", async () => {
    const root = mkdtempSync(join(tmpdir(), "apo-checkpoints-"));
    await writeCheckpoint(root, 1, writeNote("ok"), { keepLast: 3 });
    mkdirSync(join(root, "step-00000007"));
    mkdirSync(join(root, "step-00000008"));
    writeFileSync(join(root, "step-00000008", "checkpoint.json"), JSON.stringify({ step: 3 }));
    mkdirSync(join(root, "notes"));
    expect((await listCheckpoints(root)).map((location) => location.step)).toEqual([1]);
  });

  it("cleans up and reports a failed write, keeping the previous checkpoint", async () => {
    const root = mkdtempSync(join(tmpdir(), "apo-checkpoints-"));
    await writeCheckpoint(root, 1, writeNote("good"), { keepLast: 3 });
    const error = await writeCheckpoint(
      root,
      2,
      async () => {
        throw new Error("disk full");
      },
      { keepLast: 3 },
    ).catch((cause: unknown) => cause);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).message).toBe(
      `Checkpoint ${join(root, "step-00000002")}: cannot write: disk full`,
    );
    expect(readdirSync(root)).toEqual(["step-00000001"]);
  });
});
