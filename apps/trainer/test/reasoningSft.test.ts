import { join, resolve } from "node:path";
import { syntheticReasoningTask } from "@apo-rl/datasets";
import { loadQwenVLProcessor } from "@apo-rl/qwen-vl";
import { describe, expect, it } from "vitest";
import { demoBaseDirectory } from "../src/demo/demoAssets.js";
import { readConfigFile, resolveConfig } from "../src/loadConfig.js";
import { checkpointDirectoryOf } from "../src/qwen/qwenPolicyFromConfig.js";
import { reasoningCheckpointDirectory, reasoningConfigDirectory } from "../src/reasoning/reasoningAssets.js";
import { loadSftConfig } from "../src/sft/loadSftConfig.js";
import { reasoningSftTarget } from "../src/sft/sftCommand.js";
import { toTrainingExample } from "../src/TrainingData.js";

describe("the reasoning task in the trainer", () => {
  it("supervises the enumerating solution, every word a token of the demo tokenizer, ended by <|im_end|>", async () => {
    const processor = await loadQwenVLProcessor(demoBaseDirectory(), { imageDirectory: demoBaseDirectory() });
    const items = syntheticReasoningTask({ trainSize: 12, heldOutSize: 0, targetColors: ["red"] }).train;
    for (const item of items) {
      const target = reasoningSftTarget(processor)(toTrainingExample(item));
      const count = Number(item.answer);
      expect(target.responseText.split(" ")).toHaveLength(5 + 2 * count);
      // One token per word (no [UNK]), then <|im_end|>.
      expect(target.responseIds).toHaveLength(5 + 2 * count + 1);
      expect(target.responseIds.at(-1)).toBe(processor.specialTokens.imEnd);
      expect(processor.tokenizer.decode(target.responseIds.slice(0, -1))).toBe(target.responseText);
    }
  });

  it("its committed configs decode; model.checkpoint: reasoning names the committed warm start", () => {
    const sft = loadSftConfig({ file: join(reasoningConfigDirectory(), "sft.yaml") });
    expect(sft.data).toMatchObject({ task: "reasoning", maxCount: 6, targetColors: ["red"] });
    // Relative to the config file: the committed warm start next to it.
    expect(sft.output.dir).toBe(resolve(reasoningConfigDirectory(), "../reasoning-sft"));
    const rl = resolveConfig(readConfigFile(join(reasoningConfigDirectory(), "rl.yaml")));
    expect(rl.data.synthetic).toMatchObject({ task: "reasoning", maxCount: 6 });
    expect(checkpointDirectoryOf(rl)).toBe(reasoningCheckpointDirectory());
  });
});
