import { existsSync, readFileSync } from "node:fs";
import { ProcessorConfigError } from "../../processor/errors.js";

export { isRecord } from "./isRecord.js";

/** Parse a JSON file, or `undefined` when it does not exist; a malformed file is a ProcessorConfigError. */
export const readOptionalJson = (file: string): unknown => {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new ProcessorConfigError({ file, field: "", reason: `not valid JSON: ${String(cause)}` });
  }
};

/** A text file's contents, or `undefined` when it does not exist. */
export const readOptionalText = (file: string): string | undefined =>
  existsSync(file) ? readFileSync(file, "utf8") : undefined;
