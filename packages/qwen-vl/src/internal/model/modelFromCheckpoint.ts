import * as tf from "@tensorflow/tfjs-core";
import type { Qwen25VLConfig } from "../../config/Qwen25VLConfig.js";
import { Qwen25VLModel } from "../../model/Qwen25VLModel.js";
import type { Qwen25VLParts } from "../../model/Qwen25VLParts.js";
import { type TrainableOption, variableFactory } from "../../model/variables.js";
import { MissingWeightError, WeightShapeError } from "../../safetensors/errors.js";
import { assertFiniteWeight } from "../safetensors/finiteWeights.js";
import type { Checkpoint } from "./weightIndex.js";
import { checkpointShape, type WeightSpec, weightSpecs } from "./weightSpec.js";

const sameShape = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) =>
  a.length === b.length && a.every((value, index) => value === b[index]);

/** How a weight check words its failures: against the config a model is built from, or a live model. */
const checkWording = {
  config: {
    missing: "the configuration requires it but no checkpoint file holds it",
    expected: " but the config implies",
  },
  model: { missing: "the model has it, the checkpoint does not", expected: ", the model holds" },
} as const;

/**
 * Every expected weight is present with the shape the config implies; fails with
 * `MissingWeightError` / `WeightShapeError` before any weight is read.
 */
export const checkWeights = (
  config: Qwen25VLConfig,
  checkpoint: Checkpoint,
  specs: ReadonlyArray<WeightSpec>,
  against: keyof typeof checkWording = "config",
): void => {
  const wording = checkWording[against];
  for (const spec of specs) {
    const location = checkpoint.weights.get(spec.name);
    if (location === undefined) {
      throw new MissingWeightError({
        file: checkpoint.source,
        tensor: spec.name,
        reason: wording.missing,
      });
    }
    const expected = checkpointShape(config, spec);
    const actual = location.file.header.entries.get(location.stored)!.shape;
    if (!sameShape(expected, actual)) {
      throw new WeightShapeError({
        file: location.file.header.file,
        tensor: location.stored,
        expected: [...expected],
        actual: [...actual],
        reason: `stored as [${actual.join(", ")}]${wording.expected} [${expected.join(", ")}]`,
      });
    }
  }
};

const readWeights = async (
  checkpoint: Checkpoint,
  specs: ReadonlyArray<WeightSpec>,
  trainable: TrainableOption | undefined,
): Promise<Map<string, tf.Variable>> => {
  const parameters = new Map<string, tf.Variable>();
  const makeVariable = variableFactory(trainable);
  try {
    for (const spec of specs) {
      const location = checkpoint.weights.get(spec.name)!;
      const data = await location.file.read(location.stored);
      assertFiniteWeight(data, location.file.header.file, location.stored);
      parameters.set(spec.name, makeVariable(tf.tensor(data, [...spec.shape], "float32"), spec.name));
    }
    return parameters;
  } catch (error) {
    for (const variable of parameters.values()) variable.dispose();
    throw error;
  }
};

/** Check every weight of `parts` against the config, then read them into variables. */
export const modelFromCheckpoint = async (
  config: Qwen25VLConfig,
  checkpoint: Checkpoint,
  parts: Qwen25VLParts,
  trainable: TrainableOption | undefined,
): Promise<Qwen25VLModel> => {
  const specs = weightSpecs(config, parts);
  checkWeights(config, checkpoint, specs);
  const parameters = await readWeights(checkpoint, specs, trainable);
  return new Qwen25VLModel(config, parameters, parts);
};
