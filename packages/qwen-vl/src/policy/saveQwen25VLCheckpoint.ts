import { existsSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { openCheckpoint } from "../internal/model/checkpoint.js";
import { checkWeights } from "../internal/model/modelFromCheckpoint.js";
import { weightSpecs } from "../internal/model/weightSpec.js";
import { writeTextAtomically } from "../internal/policy/atomicWrite.js";
import { assertFiniteWeight } from "../internal/safetensors/finiteWeights.js";
import type { LoraAdapter } from "../lora/LoraAdapter.js";
import type { Qwen25VLModel } from "../model/Qwen25VLModel.js";
import { qwen25VLConfigJson } from "./qwen25VLConfigJson.js";
import { qwen25VLTensorSources } from "./qwen25VLWeights.js";
import { writeSafetensors } from "./writeSafetensors.js";

export { frozenCopyQwen25VL } from "./qwen25VLWeights.js";

/**
 * Files copied by {@link saveQwen25VLCheckpoint}'s `copyFrom` when present: what a checkpoint
 * directory needs besides the weights (tokenizer, chat template, image processor, generation).
 *
 * @since 0.1.0
 * @category checkpoints
 */
export const CHECKPOINT_SIDE_FILES: ReadonlyArray<string> = [
  "tokenizer.json",
  "tokenizer_config.json",
  "vocab.json",
  "merges.txt",
  "special_tokens_map.json",
  "added_tokens.json",
  "chat_template.json",
  "chat_template.jinja",
  "preprocessor_config.json",
  "generation_config.json",
];

/**
 * Options of {@link saveQwen25VLCheckpoint}.
 *
 * @since 0.1.0
 * @category checkpoints
 */
export interface SaveQwen25VLCheckpointOptions {
  /** Merge these LoRA adapters into the weights (`W + (alpha/rank)·B·A`); the model is unchanged. */
  readonly mergeAdapter?: LoraAdapter;
  /** Copy the {@link CHECKPOINT_SIDE_FILES} found in this directory (e.g. the base checkpoint). */
  readonly copyFrom?: string;
}

/**
 * Write the model as a Hugging Face checkpoint directory: `config.json` and one F32
 * `model.safetensors` with the canonical weight names (`model.layers.N…`, `visual.…`; the patch
 * embedding in its Conv3d shape), which `loadQwen25VL` (and transformers) read back. Each file is
 * written to a temporary sibling and renamed into place; tensors are read one at a time.
 *
 * @since 0.1.0
 * @category checkpoints
 */
export const saveQwen25VLCheckpoint = async (
  model: Qwen25VLModel,
  directory: string,
  options: SaveQwen25VLCheckpointOptions = {},
): Promise<void> => {
  await mkdir(directory, { recursive: true });
  const tensors = qwen25VLTensorSources(model, options.mergeAdapter);
  await writeSafetensors(join(directory, "model.safetensors"), tensors);
  if (options.copyFrom !== undefined) {
    for (const name of CHECKPOINT_SIDE_FILES) {
      const source = join(options.copyFrom, name);
      if (existsSync(source)) await copyFile(source, join(directory, name));
    }
  }
  await writeTextAtomically(
    join(directory, "config.json"),
    `${JSON.stringify(qwen25VLConfigJson(model.config), null, 2)}\n`,
  );
};

/**
 * Overwrite the model's weights with those of a checkpoint directory written by
 * {@link saveQwen25VLCheckpoint} (or any checkpoint of the same config, single file or shards, either
 * naming): the variables keep their identity, so an optimiser holding them keeps working. Tensors are
 * read and assigned one at a time (no second copy of the model). A missing weight or a size
 * mismatch fails with `MissingWeightError` / `WeightShapeError` before any weight is changed.
 *
 * @since 0.1.0
 * @category checkpoints
 */
export const readQwen25VLWeightsInto = async (model: Qwen25VLModel, directory: string): Promise<void> => {
  const checkpoint = await openCheckpoint(directory);
  try {
    const specs = weightSpecs(model.config, model.parts);
    checkWeights(model.config, checkpoint, specs, "model");
    for (const spec of specs) {
      const location = checkpoint.weights.get(spec.name)!;
      const variable = model.parameters.get(spec.name)!;
      const data = await location.file.read(location.stored);
      assertFiniteWeight(data, location.file.header.file, location.stored);
      tf.tidy(() => variable.assign(tf.tensor(data, variable.shape, "float32")));
    }
  } finally {
    await checkpoint.close();
  }
};
