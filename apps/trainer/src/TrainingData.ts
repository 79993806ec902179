import type { GenerationRequest } from "@apo-rl/core";
import {
  type DatasetItem,
  DatasetSampler,
  decodeDatasetCursor,
  toGenerationRequest,
} from "@apo-rl/datasets/portable";
import type { SkippedRow } from "./rowValidation.js";

/**
 * One prompt with its verifiable reference answer.
 *
 * @since 0.1.0
 * @category data
 */
export interface TrainingExample {
  readonly request: GenerationRequest;
  /** The reference the verifier compares responses with. */
  readonly answer: string;
  /** Where the example comes from (file datasets): named in `skipped-row` events. */
  readonly source?: { readonly file: string; readonly row: number };
}

/**
 * A resumable stream of training prompts: `next(count)` returns the next prompts, `state()` a
 * JSON-serialisable position that `restore` returns to exactly.
 *
 * @since 0.1.0
 * @category data
 */
export interface PromptCursor {
  next(count: number): ReadonlyArray<TrainingExample>;
  state(): unknown;
  restore(state: unknown): void;
}

/**
 * The data of a run: the training stream and the fixed held-out evaluation set.
 *
 * @since 0.1.0
 * @category data
 */
export interface TrainingData {
  readonly train: PromptCursor;
  readonly heldOut: ReadonlyArray<TrainingExample>;
  /** Rows skipped as invalid while loading (`--skip-invalid`). */
  readonly skipped?: number;
  /** The rows counted in `skipped`, with their reasons (logged as `skipped-row` events). */
  readonly skippedRows?: ReadonlyArray<SkippedRow>;
  /**
   * Why an example cannot be used when it is drawn (e.g. an image that does not fully decode), or
   * `undefined` when it can: such examples are skipped and logged, never fatal.
   */
  readonly checkExample?: (example: TrainingExample) => string | undefined;
}

/**
 * A dataset item as a training example (its request and answer).
 *
 * @since 0.1.0
 * @category data
 */
export const toTrainingExample = (item: DatasetItem): TrainingExample => ({
  request: toGenerationRequest(item),
  answer: item.answer,
});

/**
 * A {@link PromptCursor} over in-memory examples: @apo-rl/datasets' `DatasetSampler` (a fresh seeded
 * shuffle every epoch); the state is its `{ epoch, index, seed }` cursor.
 *
 * @since 0.1.0
 * @category data
 */
export const samplerCursor = (examples: ReadonlyArray<TrainingExample>, seed: number): PromptCursor => {
  let sampler = new DatasetSampler(examples, { seed });
  return {
    next: (count) => sampler.take(count),
    state: () => sampler.cursor,
    restore(state) {
      sampler = new DatasetSampler(examples, { cursor: decodeDatasetCursor(state) });
    },
  };
};
