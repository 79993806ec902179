/**
 * Datasets for apo-rl: View-R1 JSON and JSONL readers that report every bad row, seeded shuffling
 * with a resumable cursor, and synthetic multimodal counting and reasoning tasks.
 *
 * @since 0.1.0
 */
export { Dataset, type DatasetShape, type ReadDatasetError, type ReadDatasetOptions } from "./Dataset.js";
export { DatasetCursor, decodeDatasetCursor, startCursor } from "./DatasetCursor.js";
export { type DatasetItem, toGenerationRequest } from "./DatasetItem.js";
export { DatasetSampler, epochOrder, type SamplerOptions } from "./DatasetSampler.js";
export { DatasetFileError, InvalidDatasetError, RowProblem } from "./errors.js";
export { type ImageHeader, type ImageHeaderResult, imageHeader, readImageHeader } from "./imageHeader.js";
export type { DatasetFormat, LoadedDataset } from "./LoadedDataset.js";
export type { ReadOptions } from "./ReadOptions.js";
export { readDataset, readJsonl, readViewR1, writeJsonlDataset, writeSyntheticTask } from "./readDataset.js";
export { RandomState, SeededRandom, Uint32 } from "./SeededRandom.js";
export { SHAPE_COLORS, type ShapeColor, SYNTHETIC_BACKGROUND, SYNTHETIC_COLORS } from "./SyntheticColors.js";
export { syntheticCountingTask } from "./SyntheticCountingPng.js";
export {
  countingQuestion,
  drawSyntheticCountingTask,
  possibleCountingAnswers,
  possibleCountingPrompts,
  type ResolvedSyntheticCountingOptions,
  resolveSyntheticCountingOptions,
  SyntheticCountingOptions,
  type SyntheticImageEncoder,
  type SyntheticTask,
  syntheticCountingTaskPixels,
} from "./SyntheticCountingTask.js";
export {
  type ResolvedSyntheticReasoningOptions,
  reasoningSolution,
  resolveSyntheticReasoningOptions,
  SyntheticReasoningOptions,
  type SyntheticReasoningTask,
  syntheticReasoningTask,
} from "./SyntheticReasoningTask.js";
export type { SyntheticTaskFiles } from "./writeDataset.js";
