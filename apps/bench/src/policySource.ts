import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createQwenVLPolicy,
  decodeQwen25VLConfig,
  frozenCopyQwen25VL,
  initQwen25VL,
  type LoraOptions,
  loadQwen25VL,
  loadQwenVLProcessor,
  type Qwen25VLModel,
  type QwenVLPolicy,
  readGenerationConfig,
} from "@apo-rl/qwen-vl";
import { reasoningCheckpointDirectory } from "@apo-rl/trainer";
import { BenchSetupError } from "./errors.js";

/**
 * Where a benchmark's policy comes from:
 * - `demo`: the embedded demo's SFT checkpoint (`apps/trainer/assets/demo-sft`);
 * - `reasoning`: the warm start of the synthetic reasoning task (`apps/trainer/assets/reasoning-sft`);
 * - `demo-init`: the demo architecture and tokenizer with random weights (seeded) — no checkpoint
 *   needed, for smoke tests and performance runs;
 * - any other value: a Qwen2.5-VL checkpoint directory (`config.json`, safetensors, tokenizer,
 *   preprocessor config).
 *
 * @since 0.1.0
 * @category policies
 */
export type PolicySource = "demo" | "demo-init" | "reasoning" | (string & {});

/**
 * Options of {@link loadPolicy}.
 *
 * @since 0.1.0
 * @category policies
 */
export interface LoadPolicyOptions {
  /** LoRA adapters instead of full fine-tuning of the text decoder. */
  readonly lora?: LoraOptions;
  /** Seed of the random weights of `demo-init`. Default 0. */
  readonly seed?: number;
  /** Full fine-tuning: train the vision tower too, as `apo-train` does. Default `false`. */
  readonly trainVisionTower?: boolean;
}

const trainerPackageDirectory = (): string => {
  const manifest = fileURLToPath(import.meta.resolve("@apo-rl/trainer/package.json"));
  return dirname(manifest);
};

/**
 * The trainer's demo directories: `assets/demo` (architecture, tokenizer, template; no weights) and
 * `assets/demo-sft` (the committed SFT checkpoint).
 *
 * @since 0.1.0
 * @category policies
 */
export const demoDirectories = (): { readonly base: string; readonly checkpoint: string } => {
  const assets = join(trainerPackageDirectory(), "assets");
  return { base: join(assets, "demo"), checkpoint: join(assets, "demo-sft") };
};

/**
 * A policy built by {@link loadPolicy}, with `dispose` releasing every tensor it holds (adapters,
 * model, reference copy).
 *
 * @since 0.1.0
 * @category policies
 */
export interface LoadedPolicy {
  readonly policy: QwenVLPolicy;
  dispose(): void;
}

const fromModel = async (
  directory: string,
  model: Qwen25VLModel,
  options: LoadPolicyOptions,
  name: string,
): Promise<LoadedPolicy> => {
  const processor = await loadQwenVLProcessor(directory, { imageDirectory: directory });
  const generationConfig = await readGenerationConfig(directory);
  const reference = options.lora === undefined ? frozenCopyQwen25VL(model) : undefined;
  const policy = createQwenVLPolicy({
    model,
    processor,
    generationConfig,
    checkpointSourceDirectory: directory,
    name,
    ...(options.trainVisionTower === undefined ? {} : { trainVisionTower: options.trainVisionTower }),
    ...(options.lora === undefined ? {} : { lora: options.lora }),
    ...(reference === undefined ? {} : { reference }),
  });
  return {
    policy,
    dispose: () => {
      policy.dispose();
      model.dispose();
      reference?.dispose();
    },
  };
};

const requireDirectory = (directory: string, hint: string): void => {
  if (!existsSync(join(directory, "config.json")))
    throw new BenchSetupError({ component: "policy", reason: `${directory} has no config.json (${hint})` });
};

/**
 * Build a trainable Qwen2.5-VL policy from a {@link PolicySource} on the active tfjs backend. Full
 * fine-tuning policies get a frozen copy of their initial weights as the KL reference; LoRA
 * policies use the base weights.
 *
 * @since 0.1.0
 * @category policies
 */
export const loadPolicy = async (
  source: PolicySource,
  options: LoadPolicyOptions = {},
): Promise<LoadedPolicy> => {
  if (source === "demo-init") {
    const { base } = demoDirectories();
    requireDirectory(base, "the trainer's demo assets are missing");
    const file = join(base, "config.json");
    const config = decodeQwen25VLConfig(JSON.parse(readFileSync(file, "utf8")), file, {
      requireModelFields: true,
    });
    return fromModel(base, initQwen25VL(config, { seed: options.seed ?? 0 }), options, "demo-init");
  }
  const directory =
    source === "demo"
      ? demoDirectories().checkpoint
      : source === "reasoning"
        ? reasoningCheckpointDirectory()
        : resolve(source);
  requireDirectory(
    directory,
    source === "demo" || source === "reasoning"
      ? "the SFT checkpoint is produced by `apo-train sft`; use `demo-init` for random weights"
      : "not a Qwen2.5-VL checkpoint directory",
  );
  try {
    return await fromModel(
      directory,
      await loadQwen25VL(directory),
      options,
      source === "demo" ? "demo-sft" : source === "reasoning" ? "reasoning-sft" : directory,
    );
  } catch (error) {
    if (error instanceof BenchSetupError) throw error;
    throw new BenchSetupError({ component: "policy", reason: `${directory}: ${(error as Error).message}` });
  }
};
