import {
  type DatasetItem,
  readDataset,
  type ShapeColor,
  syntheticCountingTask,
  syntheticReasoningTask,
} from "@apo-rl/datasets";
import { BenchSetupError } from "../errors.js";

/**
 * Which prompts `apo-bench eval` runs on: the synthetic counting task's fixed held-out split, the
 * synthetic reasoning task's, or a View-R1 JSON / JSONL file.
 *
 * @since 0.1.0
 * @category eval
 */
export type EvaluationDataset =
  | {
      readonly kind: "synthetic";
      /** Held-out prompts. */
      readonly size: number;
      readonly variant: "count" | "sum" | "mixed";
      readonly difficulty: number;
      readonly imageSize?: number;
      /** The colours questions ask about (default: all). */
      readonly targetColors?: ReadonlyArray<ShapeColor>;
    }
  | {
      readonly kind: "reasoning";
      /** Held-out prompts. */
      readonly size: number;
      /** The largest count (default 6). */
      readonly maxCount?: number;
      /** The colours questions ask about (default: all). */
      readonly targetColors?: ReadonlyArray<ShapeColor>;
    }
  | {
      readonly kind: "file";
      readonly path: string;
      /** Default: by the file name (`.jsonl` → JSONL, else View-R1 JSON). */
      readonly format?: "view-r1" | "jsonl";
      readonly skipInvalid?: boolean;
      readonly allowOutsideRoot?: boolean;
      /** Keep only the first `limit` items. */
      readonly limit?: number;
    };

/**
 * The prompts of an {@link EvaluationDataset} and how many file rows were skipped as invalid
 * (`skipInvalid`).
 *
 * @since 0.1.0
 * @category eval
 */
export interface EvaluationData {
  readonly items: ReadonlyArray<DatasetItem>;
  readonly skippedRows: number;
}

/**
 * Load the prompts of an {@link EvaluationDataset} with @apo-rl/datasets. Every item keeps its
 * `category` (the counting task's variant, the reasoning task's `count-<n>`; a file's `category` field), used for
 * the breakdown.
 * `validateAnswer` checks each file row's reference (e.g. with the run's accuracy verifier): a bad
 * one fails the load naming the row, or is skipped and counted with `skipInvalid`.
 *
 * @since 0.1.0
 * @category eval
 */
export const loadEvaluationData = async (
  dataset: EvaluationDataset,
  options: { readonly validateAnswer?: (answer: string) => string | undefined } = {},
): Promise<EvaluationData> => {
  if (dataset.kind === "synthetic")
    return {
      items: syntheticCountingTask({
        trainSize: 0,
        heldOutSize: dataset.size,
        variant: dataset.variant,
        difficulty: dataset.difficulty,
        ...(dataset.imageSize === undefined ? {} : { imageSize: dataset.imageSize }),
        ...(dataset.targetColors === undefined ? {} : { targetColors: dataset.targetColors }),
      }).heldOut,
      skippedRows: 0,
    };
  if (dataset.kind === "reasoning")
    return {
      items: syntheticReasoningTask({
        trainSize: 0,
        heldOutSize: dataset.size,
        ...(dataset.maxCount === undefined ? {} : { maxCount: dataset.maxCount }),
        ...(dataset.targetColors === undefined ? {} : { targetColors: dataset.targetColors }),
      }).heldOut,
      skippedRows: 0,
    };
  try {
    const loaded = await readDataset(dataset.path, {
      ...(dataset.format === undefined ? {} : { format: dataset.format }),
      skipInvalid: dataset.skipInvalid ?? false,
      allowOutsideRoot: dataset.allowOutsideRoot ?? false,
      ...(options.validateAnswer === undefined ? {} : { validateAnswer: options.validateAnswer }),
    });
    const items = dataset.limit === undefined ? loaded.items : loaded.items.slice(0, dataset.limit);
    return { items, skippedRows: loaded.skippedRows };
  } catch (error) {
    throw new BenchSetupError({ component: "dataset", reason: (error as Error).message });
  }
};

/**
 * The prompts of {@link loadEvaluationData} alone.
 *
 * @since 0.1.0
 * @category eval
 */
export const loadEvaluationItems = async (
  dataset: EvaluationDataset,
  options: { readonly validateAnswer?: (answer: string) => string | undefined } = {},
): Promise<ReadonlyArray<DatasetItem>> => (await loadEvaluationData(dataset, options)).items;
