import { readFile } from "node:fs/promises";
import { Effect } from "effect";
import { DatasetFileError } from "../errors.js";

/** Read a whole UTF-8 file, failing with a {@link DatasetFileError} that says why. */
export const readText = (path: string): Effect.Effect<string, DatasetFileError> =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8").then((text) => text.replace(/^\uFEFF/, "")),
    catch: (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      const reason =
        code === "ENOENT"
          ? "file not found"
          : code === "EISDIR"
            ? "is a directory, not a file"
            : `cannot be read: ${(error as Error).message}`;
      return new DatasetFileError({ path, reason });
    },
  });
