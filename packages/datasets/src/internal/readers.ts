import { extname, resolve } from "node:path";
import { InvalidInputError } from "@apo-rl/core";
import { Effect } from "effect";
import { DatasetFileError, type InvalidDatasetError } from "../errors.js";
import type { DatasetFormat, LoadedDataset } from "../LoadedDataset.js";
import { type ReadOptions, resolveReadOptions } from "../ReadOptions.js";
import { assembleItems } from "./assembleItems.js";
import { parseJsonl } from "./parseJsonl.js";
import { parseViewR1 } from "./parseViewR1.js";
import { readText } from "./readText.js";

/** Every way reading a dataset can fail. */
export type ReadError = DatasetFileError | InvalidDatasetError | InvalidInputError;

const optionsEffect = (options: ReadOptions | undefined) =>
  Effect.try({
    try: () => resolveReadOptions(options),
    catch: (error) => error as InvalidInputError,
  });

export const readViewR1Effect = (
  path: string,
  options?: ReadOptions,
): Effect.Effect<LoadedDataset, ReadError> =>
  Effect.gen(function* () {
    const resolved = yield* optionsEffect(options);
    const absolute = resolve(path);
    const text = yield* readText(absolute);
    const outcomes = parseViewR1(absolute, text);
    if (outcomes instanceof DatasetFileError) return yield* outcomes;
    return yield* assembleItems(absolute, "view-r1", outcomes, resolved);
  });

export const readJsonlEffect = (
  path: string,
  options?: ReadOptions,
): Effect.Effect<LoadedDataset, ReadError> =>
  Effect.gen(function* () {
    const resolved = yield* optionsEffect(options);
    const absolute = resolve(path);
    const text = yield* readText(absolute);
    return yield* assembleItems(absolute, "jsonl", parseJsonl(text), resolved);
  });

/** The format a file name implies: `.jsonl` → JSONL, `.json` → View-R1. */
export const formatOfPath = (path: string): DatasetFormat | undefined => {
  const extension = extname(path).toLowerCase();
  return extension === ".jsonl" ? "jsonl" : extension === ".json" ? "view-r1" : undefined;
};

export const readDatasetEffect = (
  path: string,
  options?: ReadOptions & { readonly format?: DatasetFormat },
): Effect.Effect<LoadedDataset, ReadError> => {
  const { format, ...readOptions } = options ?? {};
  if (format !== undefined && format !== "jsonl" && format !== "view-r1") {
    const reason = `Expected "view-r1" or "jsonl", got ${JSON.stringify(format)}`;
    return Effect.fail(
      new InvalidInputError({
        subject: "dataset read options",
        field: "format",
        reason,
        problems: [{ field: "format", reason }],
      }),
    );
  }
  const chosen = format ?? formatOfPath(path);
  if (chosen === undefined)
    return Effect.fail(
      new DatasetFileError({
        path: resolve(path),
        reason: "cannot tell the format from the file name (.json = View-R1, .jsonl = JSONL); pass format",
      }),
    );
  return chosen === "jsonl" ? readJsonlEffect(path, readOptions) : readViewR1Effect(path, readOptions);
};
