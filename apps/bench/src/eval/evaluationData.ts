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
 * Load the prompts of an {@link EvaluationDataset} with @apo-rl/datasets. Every item keeps its
 * `category` (the counting task's variant, the reasoning task's `count-<n>`; a file's `category` field), used for the breakdown.
 *
 * @since 0.1.0
 * @category eval
 */
export const loadEvaluationItems = async (
  dataset: EvaluationDataset,
): Promise<ReadonlyArray<DatasetItem>> => {
  if (dataset.kind === "synthetic")
    return syntheticCountingTask({
      trainSize: 0,
      heldOutSize: dataset.size,
      variant: dataset.variant,
      difficulty: dataset.difficulty,
      ...(dataset.imageSize === undefined ? {} : { imageSize: dataset.imageSize }),
      ...(dataset.targetColors === undefined ? {} : { targetColors: dataset.targetColors }),
    }).heldOut;
  if (dataset.kind === "reasoning")
    return syntheticReasoningTask({
      trainSize: 0,
      heldOutSize: dataset.size,
      ...(dataset.maxCount === undefined ? {} : { maxCount: dataset.maxCount }),
      ...(dataset.targetColors === undefined ? {} : { targetColors: dataset.targetColors }),
    }).heldOut;
  try {
    const loaded = await readDataset(dataset.path, {
      ...(dataset.format === undefined ? {} : { format: dataset.format }),
      skipInvalid: dataset.skipInvalid ?? false,
      allowOutsideRoot: dataset.allowOutsideRoot ?? false,
    });
    return dataset.limit === undefined ? loaded.items : loaded.items.slice(0, dataset.limit);
  } catch (error) {
    throw new BenchSetupError({ component: "dataset", reason: (error as Error).message });
  }
};
