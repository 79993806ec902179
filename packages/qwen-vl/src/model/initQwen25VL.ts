import * as tf from "@tensorflow/tfjs-core";
import type { Qwen25VLConfig } from "../config/Qwen25VLConfig.js";
import { seededNormal } from "../internal/model/seededNormal.js";
import { weightSpecs } from "../internal/model/weightSpec.js";
import { assertFitsBackend, estimateQwen25VLMemory } from "./memory.js";
import { Qwen25VLModel } from "./Qwen25VLModel.js";
import type { Qwen25VLParts } from "./Qwen25VLParts.js";
import { type TrainableOption, variableFactory } from "./variables.js";

/**
 * Options of {@link initQwen25VL}.
 *
 * @since 0.1.0
 * @category model
 */
export interface InitQwen25VLOptions {
  /** Seed of the weights: the same seed and config give the same weights. */
  readonly seed: number;
  /** `"text"` skips the vision tower, `"vision"` the decoder. Default `"all"`. */
  readonly parts?: Qwen25VLParts;
  /** Standard deviation of the normal weights (biases 0, norms 1). Default 0.02. */
  readonly std?: number;
  readonly trainable?: TrainableOption;
}

/**
 * A Qwen2.5-VL with random weights, for tests, benchmarks and demos: linear and embedding
 * weights `N(0, std²)`, biases 0, RMSNorm weights 1. Fails with `ModelMemoryError` before allocating
 * if the weights cannot fit the active backend.
 *
 * @since 0.1.0
 * @category model
 */
export const initQwen25VL = (config: Qwen25VLConfig, options: InitQwen25VLOptions): Qwen25VLModel => {
  const parts = options.parts ?? "all";
  assertFitsBackend(tf.getBackend(), estimateQwen25VLMemory(config, parts).weightBytes);
  const std = options.std ?? 0.02;
  const parameters = new Map<string, tf.Variable>();
  const makeVariable = variableFactory(options.trainable);
  weightSpecs(config, parts).forEach((spec, index) => {
    const shape = [...spec.shape];
    const size = shape.reduce((a, b) => a * b, 1);
    const value =
      spec.init === "normal"
        ? tf.tensor(seededNormal(size, std, options.seed * 100_003 + index), shape, "float32")
        : spec.init === "ones"
          ? tf.ones(shape)
          : tf.zeros(shape);
    parameters.set(spec.name, makeVariable(value, spec.name));
  });
  return new Qwen25VLModel(config, parameters, parts);
};
