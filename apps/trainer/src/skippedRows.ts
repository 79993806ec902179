import { TrainerSetupError } from "./errors.js";
import type { SkippedRowRecord } from "./metrics.js";
import type { PromptCursor, TrainingExample } from "./TrainingData.js";

/** Consecutive unusable rows after which a draw gives up: the data is mostly broken. */
const MOST_SKIPS_PER_DRAW = 1000;

/**
 * The `skipped-row` record of an example that cannot be used.
 *
 * @since 0.1.0
 * @category data
 */
export const skippedRowRecord = (
  step: number,
  phase: SkippedRowRecord["phase"],
  example: Pick<TrainingExample, "source" | "request">,
  reason: string,
): SkippedRowRecord => ({
  kind: "skipped-row",
  step,
  phase,
  promptId: example.request.promptId,
  ...(example.source === undefined ? {} : { file: example.source.file, row: example.source.row }),
  reason,
});

/**
 * Draw `count` usable examples: each drawn example that `check` rejects is reported to `onSkip`
 * and replaced by the next one of the cursor, so one bad row never stops a run. Without `check`
 * it is `cursor.next(count)`. The cursor moves the same way on every run (resume stays exact).
 *
 * @since 0.1.0
 * @category data
 */
export const drawUsableExamples = async (
  cursor: PromptCursor,
  count: number,
  check: ((example: TrainingExample) => string | undefined) | undefined,
  onSkip: (example: TrainingExample, reason: string) => Promise<void>,
): Promise<ReadonlyArray<TrainingExample>> => {
  const drawn = cursor.next(count);
  if (check === undefined) return drawn;
  const usable: Array<TrainingExample> = [];
  const pending = [...drawn];
  let skippedInARow = 0;
  while (usable.length < count) {
    const example = pending.shift() ?? cursor.next(1)[0]!;
    const reason = check(example);
    if (reason === undefined) {
      usable.push(example);
      skippedInARow = 0;
      continue;
    }
    await onSkip(example, reason);
    skippedInARow += 1;
    if (skippedInARow >= MOST_SKIPS_PER_DRAW)
      throw new TrainerSetupError({
        component: "data",
        reason: `${skippedInARow} rows in a row cannot be used (last: ${reason})`,
      });
  }
  return usable;
};
