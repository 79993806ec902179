import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  createQwenVLPolicy,
  frozenCopyQwen25VL,
  type InitStd,
  initQwen25VL,
  loadQwen25VL,
  loadQwenVLProcessor,
  type Qwen25VLModel,
  type QwenVLPolicy,
  readQwen25VLConfig,
} from "@apo-rl/qwen-vl";
import { TrainerSetupError } from "../errors.js";
import type { LoraConfig as LoraConfigSchema } from "../TrainerConfig.js";

type LoraConfig = typeof LoraConfigSchema.Type;

/** The trainer's short module names (`q`, `gate`, …) as Qwen2.5-VL's (`q_proj`, `gate_proj`, …). */
const loraOptions = (lora: LoraConfig) => ({
  rank: lora.rank,
  alpha: lora.alpha,
  dropout: lora.dropout,
  targetModules: lora.targetModules.map((module) => `${module}_proj` as const),
});

/**
 * Options of {@link loadQwenPolicy}.
 *
 * @since 0.1.0
 * @category policies
 */
export interface LoadQwenPolicyOptions {
  /**
   * Start from random weights drawn with this seed (`initQwen25VL`) instead of the directory's
   * `model.safetensors`: the directory then only needs `config.json` and the tokenizer files.
   */
  readonly initSeed?: number;
  /** With `initSeed`: the patch merger's initial standard deviation (`initQwen25VL`'s `mergerStd`). */
  readonly initMergerStd?: InitStd;
  /** Keep a frozen copy of the initial weights as the reference policy (for a KL term). Default false. */
  readonly reference?: boolean;
  /**
   * Train the vision tower too (full fine-tuning), or only its patch merger (`"merger"`). Default
   * false: the vision tower stays frozen.
   */
  readonly trainVisionTower?: boolean | "merger";
  /** LoRA adapters instead of full fine-tuning (the reference is then the base model). */
  readonly lora?: LoraConfig;
  /** Compute per-token entropy in `logprobs` (default true). */
  readonly entropy?: boolean;
  /** `PolicyV1.name`. */
  readonly name?: string;
}

const loadModel = async (
  directory: string,
  initSeed: number | undefined,
  initMergerStd: InitStd | undefined,
): Promise<Qwen25VLModel> => {
  if (initSeed !== undefined)
    return initQwen25VL(await readQwen25VLConfig(directory), {
      seed: initSeed,
      ...(initMergerStd === undefined ? {} : { mergerStd: initMergerStd }),
    });
  const single = join(directory, "model.safetensors");
  const sharded = join(directory, "model.safetensors.index.json");
  if (!existsSync(single) && !existsSync(sharded))
    throw new TrainerSetupError({
      component: "policy",
      reason: `${directory} has no model.safetensors (or model.safetensors.index.json): give a checkpoint directory with weights — \`apo-train sft\` writes one, and its config (not the RL config) can start from random weights with model.initSeed`,
    });
  return loadQwen25VL(directory);
};

/**
 * A Qwen2.5-VL policy (`createQwenVLPolicy` of @apo-rl/qwen-vl) from a checkpoint directory:
 * `config.json`, `model.safetensors` and the tokenizer / chat template / image processor files.
 * Full fine-tuning of the text decoder by default (the vision tower frozen unless asked), with a
 * frozen reference copy when asked;
 * `save` writes a checkpoint directory of the same layout (the side files copied from `directory`).
 *
 * @since 0.1.0
 * @category policies
 */
export const loadQwenPolicy = async (
  directory: string,
  options: LoadQwenPolicyOptions = {},
): Promise<QwenVLPolicy> => {
  const model = await loadModel(directory, options.initSeed, options.initMergerStd);
  const processor = await loadQwenVLProcessor(directory);
  const lora = options.lora;
  return createQwenVLPolicy({
    model,
    processor,
    checkpointSourceDirectory: directory,
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.entropy === undefined ? {} : { entropy: options.entropy }),
    ...(lora === undefined
      ? {
          trainVisionTower: options.trainVisionTower ?? false,
          ...(options.reference === true ? { reference: frozenCopyQwen25VL(model) } : {}),
        }
      : {
          lora: loraOptions(lora),
        }),
  });
};
