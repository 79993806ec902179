import * as tf from "@tensorflow/tfjs-core";
import { checkpointShape, weightSpecs } from "../internal/model/weightSpec.js";
import type { LoraAdapter } from "../lora/LoraAdapter.js";
import { Qwen25VLModel } from "../model/Qwen25VLModel.js";
import { encodeSafetensors, type SafetensorsTensorSource } from "./encodeSafetensors.js";

/**
 * The model's weights as safetensors tensors, in checkpoint order and naming, with `adapter`'s LoRA
 * deltas merged in when given (the model is unchanged).
 *
 * @since 0.2.0
 * @category checkpoints
 */
export const qwen25VLTensorSources = (
  model: Qwen25VLModel,
  adapter?: LoraAdapter,
): ReadonlyArray<SafetensorsTensorSource> =>
  weightSpecs(model.config, model.parts).map((spec) => ({
    name: spec.name,
    shape: checkpointShape(model.config, spec),
    values: async () => {
      const variable = model.parameters.get(spec.name)!;
      const module = spec.name.endsWith(".weight") ? spec.name.slice(0, -".weight".length) : "";
      if (adapter === undefined || !adapter.modules.has(module))
        return (await variable.data()) as Float32Array;
      const merged = adapter.mergedWeight(module, variable);
      try {
        return (await merged.data()) as Float32Array;
      } finally {
        merged.dispose();
      }
    },
  }));

/**
 * The bytes of the `model.safetensors` that `saveQwen25VLCheckpoint` writes for `model` (with
 * `mergeAdapter` merged in), built in memory: a page offers them as a download.
 *
 * @since 0.2.0
 * @category checkpoints
 */
export const qwen25VLSafetensorsBytes = (
  model: Qwen25VLModel,
  mergeAdapter?: LoraAdapter,
): Promise<Uint8Array> => encodeSafetensors(qwen25VLTensorSources(model, mergeAdapter));

let frozenCopies = 0;

/**
 * A frozen copy of a model's weights (the reference policy of full fine-tuning): a new model with
 * the same config whose variables are not trainable and hold the current values.
 *
 * @since 0.1.0
 * @category checkpoints
 */
export const frozenCopyQwen25VL = (model: Qwen25VLModel): Qwen25VLModel => {
  const copy = ++frozenCopies;
  const parameters = new Map<string, tf.Variable>();
  for (const [name, variable] of model.parameters) {
    const value = tf.clone(variable);
    parameters.set(name, tf.variable(value, false, `frozen-${copy}/${name}`));
    value.dispose();
  }
  return new Qwen25VLModel(model.config, parameters, model.parts);
};
