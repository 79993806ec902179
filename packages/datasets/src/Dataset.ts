import type { InvalidInputError } from "@apo-rl/core";
import { Context, Effect, Layer } from "effect";
import type { DatasetItem } from "./DatasetItem.js";
import { DatasetSampler, type SamplerOptions } from "./DatasetSampler.js";
import type { DatasetFileError, InvalidDatasetError } from "./errors.js";
import { readDatasetEffect, readJsonlEffect, readViewR1Effect } from "./internal/readers.js";
import type { DatasetFormat, LoadedDataset } from "./LoadedDataset.js";
import type { ReadOptions } from "./ReadOptions.js";
import { syntheticCountingTask } from "./SyntheticCountingPng.js";
import type { SyntheticCountingOptions, SyntheticTask } from "./SyntheticCountingTask.js";
import {
  type SyntheticTaskFiles,
  writeJsonlDatasetEffect,
  writeSyntheticTaskEffect,
} from "./writeDataset.js";

/**
 * Every way reading a dataset can fail: the file as a whole ({@link DatasetFileError}), its rows
 * ({@link InvalidDatasetError}), or the options (core's `InvalidInputError`).
 *
 * @since 0.1.0
 * @category reading
 */
export type ReadDatasetError = DatasetFileError | InvalidDatasetError | InvalidInputError;

/**
 * {@link ReadOptions} plus the format; without `format`, `.jsonl` files are JSONL and `.json` files
 * View-R1.
 *
 * @since 0.1.0
 * @category reading
 */
export interface ReadDatasetOptions extends ReadOptions {
  readonly format?: DatasetFormat;
}

/**
 * What the {@link Dataset} service offers.
 *
 * @since 0.1.0
 * @category service
 */
export interface DatasetShape {
  readonly readViewR1: (
    path: string,
    options?: ReadOptions,
  ) => Effect.Effect<LoadedDataset, ReadDatasetError>;
  readonly readJsonl: (path: string, options?: ReadOptions) => Effect.Effect<LoadedDataset, ReadDatasetError>;
  readonly read: (
    path: string,
    options?: ReadDatasetOptions,
  ) => Effect.Effect<LoadedDataset, ReadDatasetError>;
  readonly syntheticCountingTask: (
    options?: SyntheticCountingOptions,
  ) => Effect.Effect<SyntheticTask, InvalidInputError>;
  readonly writeJsonl: (
    path: string,
    items: ReadonlyArray<DatasetItem>,
  ) => Effect.Effect<string, DatasetFileError>;
  readonly writeSyntheticTask: (
    directory: string,
    task: SyntheticTask,
  ) => Effect.Effect<SyntheticTaskFiles, DatasetFileError>;
  readonly sampler: <A>(
    items: ReadonlyArray<A>,
    options?: SamplerOptions,
  ) => Effect.Effect<DatasetSampler<A>, InvalidInputError>;
}

const make: Effect.Effect<DatasetShape> = Effect.sync(() => ({
  readViewR1: readViewR1Effect,
  readJsonl: readJsonlEffect,
  read: readDatasetEffect,
  syntheticCountingTask: (options) =>
    Effect.try({ try: () => syntheticCountingTask(options), catch: (error) => error as InvalidInputError }),
  writeJsonl: writeJsonlDatasetEffect,
  writeSyntheticTask: writeSyntheticTaskEffect,
  sampler: (items, options) =>
    Effect.try({
      try: () => new DatasetSampler(items, options),
      catch: (error) => error as InvalidInputError,
    }),
}));

/**
 * Datasets as an Effect service: read View-R1 / JSONL files, generate and write synthetic tasks,
 * and build seeded samplers. Provide it with `Dataset.layer`.
 *
 * @since 0.1.0
 * @category service
 */
export class Dataset extends Context.Service<Dataset, DatasetShape>()("@apo-rl/datasets/Dataset") {
  /** Build the service. */
  static readonly make: Effect.Effect<DatasetShape> = make;
  /** The layer providing {@link Dataset}. */
  static readonly layer: Layer.Layer<Dataset> = Layer.effect(Dataset, make);
}
