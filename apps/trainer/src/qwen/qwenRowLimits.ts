import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadQwenVLProcessor, readQwen25VLConfig, smartResize } from "@apo-rl/qwen-vl";
import type { PromptMeasure } from "../rowValidation.js";
import type { TrainerConfig } from "../TrainerConfig.js";
import { checkpointDirectoryOf } from "./qwenPolicyFromConfig.js";

/**
 * What the Qwen2.5-VL checkpoint of `config.model` says about prompts: how to count their tokens
 * (chat template + tokenizer, each image's `<|image_pad|>` count after `smart_resize` with the
 * checkpoint's pixel budget) and the longest prompt the model takes (`max_position_embeddings`).
 * `undefined` when `model.checkpoint` is not a
 * checkpoint directory (a policy of a `createPolicy` hook).
 *
 * @since 0.1.0
 * @category data
 */
export const qwenPromptLimits = async (
  config: TrainerConfig,
): Promise<{ readonly measure: PromptMeasure; readonly longestPrompt: number } | undefined> => {
  const directory = checkpointDirectoryOf(config);
  if (!existsSync(join(directory, "config.json")) || !existsSync(join(directory, "tokenizer.json")))
    return undefined;
  const model = await readQwen25VLConfig(directory);
  const processor = await loadQwenVLProcessor(directory);
  const { patchSize, mergeSize, minPixels, maxPixels } = processor.imageProcessorConfig;
  const imagePad = processor.specialTokens.imagePad;
  return {
    longestPrompt: model.text.maxPositionEmbeddings,
    measure: {
      textTokens: (messages) => {
        const ids = processor.tokenizer.encode(
          processor.applyChatTemplate(messages, { addGenerationPrompt: true }),
        );
        return ids.filter((id) => id !== imagePad).length;
      },
      imageTokens: (height, width) => {
        const [resizedHeight, resizedWidth] = smartResize(height, width, {
          factor: patchSize * mergeSize,
          minPixels,
          maxPixels,
        });
        return ((resizedHeight / patchSize) * (resizedWidth / patchSize)) / (mergeSize * mergeSize);
      },
    },
  };
};
