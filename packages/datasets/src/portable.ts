/**
 * The portable part of @apo-rl/datasets: the synthetic counting task with raw-pixel images, its
 * options and questions, seeded sampling with a resumable cursor. It imports no Node built-in
 * (`scripts/check-architecture.mjs` enforces it); the file readers, writers and PNG encoding stay in
 * the main entry point, which is Node-only.
 *
 * @since 0.2.0
 */
export { DatasetCursor, decodeDatasetCursor, startCursor } from "./DatasetCursor.js";
export { type DatasetItem, toGenerationRequest } from "./DatasetItem.js";
export { DatasetSampler, epochOrder, type SamplerOptions } from "./DatasetSampler.js";
export { RandomState, SeededRandom, Uint32 } from "./SeededRandom.js";
export { SHAPE_COLORS, type ShapeColor, SYNTHETIC_BACKGROUND, SYNTHETIC_COLORS } from "./SyntheticColors.js";
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
