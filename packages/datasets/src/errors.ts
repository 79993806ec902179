import { Schema } from "effect";

/**
 * One problem with one row of a dataset: its 1-based `row` (the line number for JSONL, the element
 * number for a View-R1 array), the `field` at fault (`""` for the row as a whole) and why.
 *
 * @since 0.1.0
 * @category errors
 */
export const RowProblem = Schema.Struct({
  row: Schema.Int,
  field: Schema.String,
  reason: Schema.String,
});

/**
 * @since 0.1.0
 * @category errors
 */
export type RowProblem = typeof RowProblem.Type;

/** How many row problems the error message spells out before summarising the rest. */
const PROBLEMS_IN_MESSAGE = 20;

const describeProblem = (problem: RowProblem): string =>
  `row ${problem.row}${problem.field === "" ? "" : ` ${problem.field}`}: ${problem.reason}`;

/**
 * Rows of a dataset are invalid. `problems` lists every problem of every bad row (not only the
 * first); the message spells out the first twenty. Pass `skipInvalid: true` to drop the bad rows
 * instead.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidDatasetError extends Schema.TaggedError<InvalidDatasetError>()("InvalidDatasetError", {
  /** The dataset file. */
  path: Schema.String,
  reason: Schema.String,
  problems: Schema.Array(RowProblem),
}) {
  override get message(): string {
    const shown = this.problems
      .slice(0, PROBLEMS_IN_MESSAGE)
      .map((problem) => `\n  ${describeProblem(problem)}`);
    const hidden = this.problems.length - shown.length;
    const more = hidden > 0 ? `\n  … and ${hidden} more` : "";
    return `Invalid dataset ${this.path}: ${this.reason}${shown.join("")}${more}`;
  }
}

/**
 * A dataset file cannot be read or written as a whole: it is missing, unreadable, not the expected
 * format (e.g. a View-R1 file that is not a JSON array) or empty.
 *
 * @since 0.1.0
 * @category errors
 */
export class DatasetFileError extends Schema.TaggedError<DatasetFileError>()("DatasetFileError", {
  path: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `Dataset file ${this.path}: ${this.reason}`;
  }
}
