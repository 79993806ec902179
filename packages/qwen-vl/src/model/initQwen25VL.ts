import * as tf from "@tensorflow/tfjs-core";
import type { Qwen25VLConfig } from "../config/Qwen25VLConfig.js";
import { seededNormal } from "../internal/model/seededNormal.js";
import { weightSpecs } from "../internal/model/weightSpec.js";
import { assertFitsBackend, estimateQwen25VLMemory } from "./memory.js";
import { Qwen25VLModel } from "./Qwen25VLModel.js";
import type { Qwen25VLParts } from "./Qwen25VLParts.js";
import { type TrainableOption, variableFactory } from "./variables.js";

/**
 * A standard deviation, or `"fan-in"`: `1/√fan_in` for each weight, its fan-in being its last axis
 * (the input columns of HF's `[out, in]` layout; the hidden width of an embedding).
 *
 * @since 0.1.0
 * @category model
 */
export type InitStd = number | "fan-in";

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
  /**
   * Standard deviation of the normal weights (biases 0, norms 1): a number, or `"fan-in"` for
   * `1/√fan_in` per weight (its number of input columns). Default 0.02 (HF's `initializer_range`).
   */
  readonly std?: InitStd;
  /**
   * The same for the patch merger's weights (`visual.merger.*`, the MLP that projects vision
   * features into the decoder) only. Default: `std`. At toy widths the fixed 0.02 shrinks each
   * merger layer's output (a 256-wide layer scales it by √256·0.02 ≈ 0.3), so image features reach
   * the decoder far weaker than text embeddings; `"fan-in"` keeps them at unit scale while the
   * vision blocks stay near the identity.
   */
  readonly mergerStd?: InitStd;
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
  const mergerStd = options.mergerStd ?? std;
  const deviation = (name: string, shape: ReadonlyArray<number>): number => {
    const chosen = name.startsWith("visual.merger.") ? mergerStd : std;
    return chosen === "fan-in" ? 1 / Math.sqrt(shape[shape.length - 1]!) : chosen;
  };
  const parameters = new Map<string, tf.Variable>();
  const makeVariable = variableFactory(options.trainable);
  weightSpecs(config, parts).forEach((spec, index) => {
    const shape = [...spec.shape];
    const size = shape.reduce((a, b) => a * b, 1);
    const value =
      spec.init === "normal"
        ? tf.tensor(
            seededNormal(size, deviation(spec.name, shape), options.seed * 100_003 + index),
            shape,
            "float32",
          )
        : spec.init === "ones"
          ? tf.ones(shape)
          : tf.zeros(shape);
    parameters.set(spec.name, makeVariable(value, spec.name));
  });
  return new Qwen25VLModel(config, parameters, parts);
};
