import type { DatasetItem } from "./DatasetItem.js";
import type { RowProblem } from "./errors.js";

/**
 * The on-disk formats the readers understand: `view-r1` (a JSON array of `{ message, answer }`) and
 * `jsonl` (one JSON object per line).
 *
 * @since 0.1.0
 * @category reading
 */
export type DatasetFormat = "view-r1" | "jsonl";

/**
 * What a reader returns: the valid items in file order, and, with `skipInvalid`, the problems of the
 * rows it dropped (`skippedRows` counts those rows).
 *
 * @since 0.1.0
 * @category reading
 */
export interface LoadedDataset {
  /** The dataset file, as an absolute path. */
  readonly path: string;
  readonly format: DatasetFormat;
  readonly items: ReadonlyArray<DatasetItem>;
  readonly skipped: ReadonlyArray<RowProblem>;
  readonly skippedRows: number;
}
