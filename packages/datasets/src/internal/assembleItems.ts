import { realpath } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import type { ChatMessage } from "@apo-rl/core";
import { Effect } from "effect";
import type { DatasetItem } from "../DatasetItem.js";
import { DatasetFileError, InvalidDatasetError, type RowProblem } from "../errors.js";
import type { DatasetFormat, LoadedDataset } from "../LoadedDataset.js";
import type { ResolvedReadOptions } from "../ReadOptions.js";
import type { FieldProblem } from "./decodeValue.js";
import { withImages } from "./messageImages.js";
import { type ImagePolicy, resolveImage } from "./resolveImage.js";

/** A row whose shape is right; its images and answer are checked next. */
export interface ParsedRow {
  readonly id: string | undefined;
  /** Image parts still hold the references written in the file. */
  readonly messages: ReadonlyArray<ChatMessage>;
  /** One reference per image part, in order, with the field it came from. */
  readonly images: ReadonlyArray<{ readonly reference: string; readonly field: string }>;
  readonly answer: string;
  readonly category: string | undefined;
}

/** What parsing made of one row: a parsed row or its problems. */
export type RowOutcome =
  | { readonly row: number; readonly ok: true; readonly parsed: ParsedRow }
  | { readonly row: number; readonly ok: false; readonly problems: ReadonlyArray<FieldProblem> };

const IMAGE_CHECK_CONCURRENCY = 16;

const imagePolicy = (
  path: string,
  options: ResolvedReadOptions,
): Effect.Effect<ImagePolicy, DatasetFileError> =>
  Effect.gen(function* () {
    const baseDirectory = dirname(path);
    const root = resolve(options.root ?? baseDirectory);
    const realRoot =
      options.checkImages && !options.allowOutsideRoot
        ? yield* Effect.tryPromise({
            try: () => realpath(root),
            catch: () => new DatasetFileError({ path, reason: `dataset root directory not found: ${root}` }),
          })
        : undefined;
    return {
      baseDirectory,
      root,
      realRoot,
      allowOutsideRoot: options.allowOutsideRoot,
      checkImages: options.checkImages,
    };
  });

const answerProblem = (answer: string, options: ResolvedReadOptions): FieldProblem | undefined => {
  if (answer.trim() === "") return { field: "answer", reason: "answer is empty" };
  if (options.validateAnswer === undefined) return undefined;
  try {
    const reason = options.validateAnswer(answer);
    return reason === undefined
      ? undefined
      : { field: "answer", reason: `unusable reference answer: ${reason}` };
  } catch (error) {
    return { field: "answer", reason: `unusable reference answer: ${(error as Error).message}` };
  }
};

interface CheckedRow {
  readonly item: DatasetItem | undefined;
  readonly problems: ReadonlyArray<FieldProblem>;
}

/** Check one parsed row's images and answer, producing its item or its problems. */
const checkRow = (
  row: number,
  parsed: ParsedRow,
  defaultId: string,
  policy: ImagePolicy,
  options: ResolvedReadOptions,
): Effect.Effect<CheckedRow> =>
  Effect.gen(function* () {
    const resolutions = yield* Effect.forEach(parsed.images, (image) =>
      resolveImage(image.reference, policy),
    );
    const problems: Array<FieldProblem> = [];
    const paths: Array<string> = [];
    resolutions.forEach((resolution, index) => {
      if (resolution.ok) paths.push(resolution.path);
      else problems.push({ field: parsed.images[index]!.field, reason: resolution.reason });
    });
    const answer = answerProblem(parsed.answer, options);
    if (answer !== undefined) problems.push(answer);
    if (problems.length > 0) return { item: undefined, problems };
    const item: DatasetItem = {
      id: parsed.id ?? defaultId,
      messages: withImages(parsed.messages, paths),
      images: paths,
      answer: parsed.answer,
      ...(parsed.category === undefined ? {} : { category: parsed.category }),
      row,
    };
    return { item, problems };
  });

/** Later rows that repeat an earlier row's id (rows with other problems included). */
const duplicateIds = (
  rows: ReadonlyArray<{ readonly row: number; readonly id: string }>,
): ReadonlyArray<RowProblem> => {
  const firstRow = new Map<string, number>();
  return rows.flatMap(({ row, id }) => {
    const first = firstRow.get(id);
    if (first === undefined) {
      firstRow.set(id, row);
      return [];
    }
    return [{ row, field: "id", reason: `duplicate id ${JSON.stringify(id)} (first at row ${first})` }];
  });
};

/**
 * Turn parsed rows into a {@link LoadedDataset}: resolve and check images, check answers and ids,
 * and either fail with every problem or (with `skipInvalid`) drop the bad rows.
 */
export const assembleItems = (
  path: string,
  format: DatasetFormat,
  outcomes: ReadonlyArray<RowOutcome>,
  options: ResolvedReadOptions,
): Effect.Effect<LoadedDataset, InvalidDatasetError | DatasetFileError> =>
  Effect.gen(function* () {
    if (outcomes.length === 0) return yield* new DatasetFileError({ path, reason: "contains no rows" });
    const policy = yield* imagePolicy(path, options);
    const name = basename(path);
    const defaultId = (row: number) => `${name}:${row}`;
    const checked = yield* Effect.forEach(
      outcomes,
      (outcome) =>
        outcome.ok
          ? checkRow(outcome.row, outcome.parsed, defaultId(outcome.row), policy, options).pipe(
              Effect.map((result) => ({ row: outcome.row, ...result })),
            )
          : Effect.succeed({ row: outcome.row, item: undefined, problems: outcome.problems }),
      { concurrency: IMAGE_CHECK_CONCURRENCY },
    );
    const candidates = checked.flatMap((result) => (result.item === undefined ? [] : [result.item]));
    const problems: Array<RowProblem> = checked.flatMap((result) =>
      result.problems.map((problem) => ({ row: result.row, ...problem })),
    );
    const ids = outcomes.flatMap((outcome) =>
      outcome.ok ? [{ row: outcome.row, id: outcome.parsed.id ?? defaultId(outcome.row) }] : [],
    );
    problems.push(...duplicateIds(ids));
    problems.sort((left, right) => left.row - right.row);
    const badRows = new Set(problems.map((problem) => problem.row));
    const items = candidates.filter((item) => !badRows.has(item.row));
    const summary = `${badRows.size} of ${outcomes.length} rows are invalid`;
    if (problems.length > 0 && !options.skipInvalid)
      return yield* new InvalidDatasetError({
        path,
        reason: `${summary} (skipInvalid drops them)`,
        problems,
      });
    if (items.length === 0)
      return yield* new InvalidDatasetError({ path, reason: `every row is invalid (${summary})`, problems });
    return { path, format, items, skipped: problems, skippedRows: badRows.size };
  });
