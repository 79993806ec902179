import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, train } from "@apo-rl/trainer";
import { describe, expect, it } from "vitest";
import { demoDirectories } from "../src/policySource.js";
import { bench, outputDirectory } from "./support/cli.js";

/** A one-step apo-train run of the demo policy; resolves to its run directory. */
const trainedRun = async (): Promise<string> => {
  const runDir = join(mkdtempSync(join(tmpdir(), "apo-bench-run-")), "run");
  const config = loadConfig({
    overrides: [
      ...[
        "model.checkpoint=demo",
        "data.format=synthetic",
        "data.heldOutSize=0",
        "data.synthetic.trainSize=4",
      ],
      ...["rollout.groupSize=2", "rollout.maxNewTokens=4", "reward.workers=0", "train.steps=1"],
      ...["train.promptsPerStep=1", `output.runDir=${runDir}`, "backend=cpu"],
    ],
  });
  await train(config, { log: () => {}, progress: () => {}, handleSignals: false });
  return runDir;
};

/** Write NaN into element 3 of a float32 tensor of `directory/model.safetensors`. */
const poison = (directory: string, tensor: string): void => {
  const file = join(directory, "model.safetensors");
  const bytes = readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8")) as Record<
    string,
    { data_offsets: [number, number] }
  >;
  bytes.writeFloatLE(Number.NaN, 8 + headerLength + header[tensor]!.data_offsets[0] + 12);
  writeFileSync(file, bytes);
};

const evalArgs = (policy: string) => [
  ...["eval", "--policy", policy, "--size", "2", "--max-new-tokens", "4"],
  ...["--workers", "0", "--backend", "cpu", "--out", outputDirectory()],
];

describe("apo-bench eval --policy", () => {
  it("takes an apo-train run directory (its latest checkpoint) and says which it picked", async () => {
    const runDir = await trainedRun();
    const run = await bench(evalArgs(runDir));
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      `policy: run directory ${runDir}, its latest checkpoint ${join(runDir, "checkpoints", "step-00000001")} (step 1)`,
    );
    const checkpoint = await bench(evalArgs(join(runDir, "checkpoints", "step-00000001")));
    expect(checkpoint.status, checkpoint.stderr).toBe(0);
    expect(checkpoint.stderr).toContain("(its policy/)");
  });

  it("fails on a checkpoint with a NaN weight, naming the tensor", async () => {
    const copy = join(mkdtempSync(join(tmpdir(), "apo-bench-nan-")), "checkpoint");
    cpSync(demoDirectories().checkpoint, copy, { recursive: true });
    poison(copy, "model.norm.weight");
    const run = await bench(evalArgs(copy));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('(tensor "model.norm.weight"): holds NaN at index 3');
  });
});
