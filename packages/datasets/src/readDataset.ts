import { Effect } from "effect";
import type { ReadDatasetOptions } from "./Dataset.js";
import type { DatasetItem } from "./DatasetItem.js";
import { readDatasetEffect, readJsonlEffect, readViewR1Effect } from "./internal/readers.js";
import type { LoadedDataset } from "./LoadedDataset.js";
import type { ReadOptions } from "./ReadOptions.js";
import type { SyntheticTask } from "./SyntheticCountingTask.js";
import {
  type SyntheticTaskFiles,
  writeJsonlDatasetEffect,
  writeSyntheticTaskEffect,
} from "./writeDataset.js";

/**
 * Read a View-R1 dataset: a JSON array of `{ "message": "<JSON of the chat messages>", "answer": … }`.
 * Rejects with `InvalidDatasetError` listing every bad row, `DatasetFileError` when the file cannot be
 * read or is not a JSON array, or core's `InvalidInputError` for bad options.
 *
 * @since 0.1.0
 * @category reading
 */
export const readViewR1 = (path: string, options?: ReadOptions): Promise<LoadedDataset> =>
  Effect.runPromise(readViewR1Effect(path, options));

/**
 * Read a JSONL dataset: one `{ messages | prompt, images?, answer, id?, category? }` object per line.
 * Rejects like {@link readViewR1}.
 *
 * @since 0.1.0
 * @category reading
 */
export const readJsonl = (path: string, options?: ReadOptions): Promise<LoadedDataset> =>
  Effect.runPromise(readJsonlEffect(path, options));

/**
 * Read a dataset in the format its file name implies (`.jsonl` → JSONL, `.json` → View-R1) or that
 * `options.format` names.
 *
 * @since 0.1.0
 * @category reading
 */
export const readDataset = (path: string, options?: ReadDatasetOptions): Promise<LoadedDataset> =>
  Effect.runPromise(readDatasetEffect(path, options));

/**
 * Write items as a JSONL dataset readable by {@link readJsonl}; in-memory images go to `images/` next
 * to the file. Resolves to the absolute path written.
 *
 * @since 0.1.0
 * @category writing
 */
export const writeJsonlDataset = (path: string, items: ReadonlyArray<DatasetItem>): Promise<string> =>
  Effect.runPromise(writeJsonlDatasetEffect(path, items));

/**
 * Write a synthetic task to `directory` as `train.jsonl`, `held-out.jsonl` and `images/*.png`.
 *
 * @since 0.1.0
 * @category writing
 */
export const writeSyntheticTask = (directory: string, task: SyntheticTask): Promise<SyntheticTaskFiles> =>
  Effect.runPromise(writeSyntheticTaskEffect(directory, task));
