/**
 * Datasets for apo-rl: View-R1 JSON and JSONL readers that report every bad row, seeded shuffling
 * with a resumable cursor, and synthetic multimodal counting and reasoning tasks.
 *
 * @since 0.1.0
 */
// Every export of ./portable.js (no Node built-ins), plus what needs Node.
export { Dataset, type DatasetShape, type ReadDatasetError, type ReadDatasetOptions } from "./Dataset.js";
export { DatasetFileError, InvalidDatasetError, RowProblem } from "./errors.js";
export { type ImageHeader, type ImageHeaderResult, imageHeader, readImageHeader } from "./imageHeader.js";
export type { DatasetFormat, LoadedDataset } from "./LoadedDataset.js";
export * from "./portable.js";
export type { ReadOptions } from "./ReadOptions.js";
export { readDataset, readJsonl, readViewR1, writeJsonlDataset, writeSyntheticTask } from "./readDataset.js";
export { syntheticCountingTask } from "./SyntheticCountingPng.js";
export {
  type ResolvedSyntheticReasoningOptions,
  reasoningSolution,
  resolveSyntheticReasoningOptions,
  SyntheticReasoningOptions,
  type SyntheticReasoningTask,
  syntheticReasoningTask,
} from "./SyntheticReasoningTask.js";
export type { SyntheticTaskFiles } from "./writeDataset.js";
