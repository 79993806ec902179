import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { demoCheckpointDirectory } from "../src/demo/demoAssets.js";
import { runCli } from "../src/runCli.js";
import { poisonedCopy } from "./support/poisonWeight.js";

describe("a policy checkpoint with a NaN weight", () => {
  it("fails apo-train at load, naming the tensor", async () => {
    const checkpoint = poisonedCopy(demoCheckpointDirectory(), "model.layers.0.mlp.up_proj.weight");
    const directory = mkdtempSync(join(tmpdir(), "apo-nan-run-"));
    writeFileSync(
      join(directory, "run.yaml"),
      `model: { checkpoint: ${JSON.stringify(checkpoint)} }
data: { format: synthetic, heldOutSize: 0, synthetic: { trainSize: 4 } }
rollout: { groupSize: 2, maxNewTokens: 4 }
reward: { preset: view-r1, accuracy: counting, workers: 0 }
train: { steps: 1, promptsPerStep: 1 }
output: { runDir: ${JSON.stringify(join(directory, "run"))} }
backend: cpu
`,
    );
    let stderr = "";
    const status = await runCli(
      ["--config", join(directory, "run.yaml")],
      {
        stdout: () => {},
        stderr: (text) => {
          stderr += text;
        },
      },
      { handleSignals: false, progress: () => {} },
    );
    expect(status).toBe(1);
    expect(stderr).toContain(
      `apo-train: Non-finite weight in ${join(checkpoint, "model.safetensors")} (tensor "model.layers.0.mlp.up_proj.weight"): holds NaN at index 3`,
    );
  });
});
