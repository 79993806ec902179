import { join } from "node:path";
import { trainerAssetsDirectory } from "../demo/demoAssets.js";

/**
 * `assets/reasoning`: the configs of the reasoning task's warm start (`sft.yaml`) and of RL on it
 * (`rl.yaml`). The model architecture and tokenizer are the demo's (`assets/demo`).
 *
 * @since 0.1.0
 * @category reasoning
 */
export const reasoningConfigDirectory = (): string => join(trainerAssetsDirectory(), "reasoning");

/**
 * `assets/reasoning-sft`: the committed SFT checkpoint of the synthetic reasoning task, the warm
 * start of `model.checkpoint: reasoning`.
 *
 * @since 0.1.0
 * @category reasoning
 */
export const reasoningCheckpointDirectory = (): string => join(trainerAssetsDirectory(), "reasoning-sft");
