import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { Effect } from "effect";
import { decodeQwen25VLConfig, type Qwen25VLConfig, Qwen25VLConfigError } from "../config/Qwen25VLConfig.js";
import { openCheckpoint } from "../internal/model/checkpoint.js";
import { modelFromCheckpoint } from "../internal/model/modelFromCheckpoint.js";
import { CheckpointFileError, type SafetensorsError } from "../safetensors/errors.js";
import type { ModelMemoryError } from "./errors.js";
import { assertFitsBackend, estimateQwen25VLMemory } from "./memory.js";
import type { Qwen25VLModel } from "./Qwen25VLModel.js";
import type { Qwen25VLParts } from "./Qwen25VLParts.js";
import type { TrainableOption } from "./variables.js";

/**
 * Options of {@link loadQwen25VL}.
 *
 * @since 0.1.0
 * @category loading
 */
export interface LoadQwen25VLOptions {
  /** Backend whose memory bound is checked before loading. Default: the active one (`tf.getBackend()`). */
  readonly backend?: string;
  /** `"text"` loads only the decoder, `"vision"` only the vision tower. Default `"all"`. */
  readonly parts?: Qwen25VLParts;
  /** Which weights become trainable variables (default none). */
  readonly trainable?: TrainableOption;
}

/**
 * Every error {@link loadQwen25VL} can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type Qwen25VLLoadError = Qwen25VLConfigError | SafetensorsError | ModelMemoryError;

/**
 * Read and decode `<directory>/config.json` as a checkpoint's config: the fields that fix the
 * weights' shapes or the outputs are required (see `decodeQwen25VLConfig`'s `requireModelFields`).
 *
 * @since 0.1.0
 * @category loading
 */
export const readQwen25VLConfig = async (directory: string): Promise<Qwen25VLConfig> => {
  const file = join(directory, "config.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CheckpointFileError({ file, reason: `cannot read: ${(error as Error).message}` });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Qwen25VLConfigError({ file, field: "", reason: `not JSON (${(error as Error).message})` });
  }
  return decodeQwen25VLConfig(json, file, { requireModelFields: true });
};

/**
 * Load a Qwen2.5-VL checkpoint directory: `config.json` plus `model.safetensors`, or shards listed
 * in `model.safetensors.index.json`. Both weight namings are accepted (`model.*`/`visual.*` and
 * `model.language_model.*`/`model.visual.*`). Before any tensor data is read it checks that the
 * float32 weights fit the backend (else `ModelMemoryError` naming the backends that can hold
 * them), validates every header, and checks that every weight is present with the right shape.
 * Tensors are then read one at a time (BF16/F16 converted to F32) into `tf.Variable`s.
 *
 * @since 0.1.0
 * @category loading
 */
export const loadQwen25VL = async (
  directory: string,
  options: LoadQwen25VLOptions = {},
): Promise<Qwen25VLModel> => {
  const config = await readQwen25VLConfig(directory);
  const parts = options.parts ?? "all";
  assertFitsBackend(options.backend ?? tf.getBackend(), estimateQwen25VLMemory(config, parts).weightBytes);
  const checkpoint = await openCheckpoint(directory);
  try {
    return await modelFromCheckpoint(config, checkpoint, parts, options.trainable);
  } finally {
    await checkpoint.close();
  }
};

const loadErrorTags = new Set<string>([
  "Qwen25VLConfigError",
  "SafetensorsHeaderError",
  "SafetensorsDtypeError",
  "SafetensorsOffsetError",
  "MissingWeightError",
  "WeightShapeError",
  "NonFiniteWeightError",
  "CheckpointFileError",
  "ModelMemoryError",
]);

const isLoadError = (error: unknown): error is Qwen25VLLoadError =>
  typeof error === "object" && error !== null && loadErrorTags.has((error as { _tag?: string })._tag ?? "");

/**
 * {@link loadQwen25VL} as an `Effect` whose failure channel holds the typed load errors; other
 * I/O failures become a `CheckpointFileError` naming the directory.
 *
 * @since 0.1.0
 * @category loading
 */
export const loadQwen25VLEffect = (
  directory: string,
  options: LoadQwen25VLOptions = {},
): Effect.Effect<Qwen25VLModel, Qwen25VLLoadError> =>
  Effect.tryPromise({
    try: () => loadQwen25VL(directory, options),
    catch: (error) =>
      isLoadError(error) ? error : new CheckpointFileError({ file: directory, reason: String(error) }),
  });
