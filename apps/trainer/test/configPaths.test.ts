import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/loadConfig.js";
import { loadSftConfig } from "../src/sft/loadSftConfig.js";

describe("relative paths in a config file", () => {
  it("resolve against the file's directory; absolute paths, demo, defaults and --set values do not move", () => {
    const directory = mkdtempSync(join(tmpdir(), "apo-paths-"));
    mkdirSync(join(directory, "configs"));
    const file = join(directory, "configs", "run.yaml");
    writeFileSync(
      file,
      `model: { checkpoint: ../models/base }
data: { format: jsonl, path: data/train.jsonl, heldOutPath: /abs/held-out.jsonl }
train: { steps: 1 }
output: { runDir: ../runs/one }
`,
    );
    const config = loadConfig({ file });
    expect(config.model.checkpoint).toBe(join(directory, "models", "base"));
    expect(config.data.path).toBe(join(directory, "configs", "data", "train.jsonl"));
    expect(config.data.heldOutPath).toBe("/abs/held-out.jsonl");
    expect(config.output.runDir).toBe(join(directory, "runs", "one"));

    const overridden = loadConfig({ file, overrides: ["data.path=here.jsonl", "model.checkpoint=demo"] });
    expect(overridden.data.path).toBe("here.jsonl");
    expect(overridden.model.checkpoint).toBe("demo");

    writeFileSync(file, "model: { checkpoint: demo }\ndata: { format: synthetic }\ntrain: { steps: 1 }\n");
    const defaults = loadConfig({ file });
    expect(defaults.model.checkpoint).toBe("demo");
    expect(defaults.output.runDir).toBe("runs/apo");
  });

  it("apply to the SFT config too", () => {
    const directory = mkdtempSync(join(tmpdir(), "apo-paths-"));
    const file = join(directory, "sft.yaml");
    writeFileSync(file, "model: { base: ../base }\ntrain: { steps: 1 }\noutput: { dir: out }\n");
    const config = loadSftConfig({ file });
    expect(config.model.base).toBe(join(directory, "..", "base"));
    expect(config.output.dir).toBe(join(directory, "out"));
  });
});
