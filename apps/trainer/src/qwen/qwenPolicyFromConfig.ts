import { demoCheckpointDirectory } from "../demo/demoAssets.js";
import { reasoningCheckpointDirectory } from "../reasoning/reasoningAssets.js";
import type { TrainablePolicy } from "../TrainablePolicy.js";
import type { TrainerConfig } from "../TrainerConfig.js";
import { objectiveUsesReference } from "../trainingLoop.js";
import { loadQwenPolicy } from "./loadQwenPolicy.js";
import { assertStepFitsBackend } from "./memoryPreflight.js";

/**
 * The checkpoint directory `model.checkpoint` names: `demo` is the committed SFT checkpoint of the
 * embedded demo (`assets/demo-sft`), `reasoning` the warm start of the synthetic reasoning task
 * (`assets/reasoning-sft`), anything else a Qwen2.5-VL checkpoint directory.
 *
 * @since 0.1.0
 * @category policies
 */
export const checkpointDirectoryOf = (config: TrainerConfig): string =>
  config.model.checkpoint === "demo"
    ? demoCheckpointDirectory()
    : config.model.checkpoint === "reasoning"
      ? reasoningCheckpointDirectory()
      : config.model.checkpoint;

/**
 * The Qwen2.5-VL policy of `config.model`: the checkpoint directory (or `demo`), LoRA adapters when
 * `model.lora` is set (the reference is then the base model), else full fine-tuning with a frozen
 * copy of the initial weights as the reference when the objective uses a KL term. A step that
 * would not fit the backend's memory is refused before the first step (`assertStepFitsBackend`).
 *
 * @since 0.1.0
 * @category policies
 */
export const qwenPolicyFromConfig = async (config: TrainerConfig): Promise<TrainablePolicy> => {
  const policy = await loadQwenPolicy(checkpointDirectoryOf(config), {
    ...(config.model.lora === undefined
      ? { reference: objectiveUsesReference(config), trainVisionTower: config.model.trainVisionTower }
      : { lora: config.model.lora }),
  });
  try {
    assertStepFitsBackend(config, policy);
  } catch (error) {
    policy.dispose();
    policy.model.dispose();
    throw error;
  }
  return policy;
};
