import { join } from "node:path";
import { readOptionalJson } from "../internal/processor/readJsonFile.js";
import { ProcessorConfigError } from "./errors.js";
import { makeQwenVLTokenizer, type QwenVLTokenizer } from "./QwenVLTokenizer.js";

/**
 * Read `tokenizer.json` (required) and `tokenizer_config.json` (optional) from a directory.
 *
 * @throws {ProcessorConfigError} naming the missing or malformed file.
 * @since 0.1.0
 * @category tokenizer
 */
export const loadQwenVLTokenizer = (directory: string): QwenVLTokenizer => {
  const file = join(directory, "tokenizer.json");
  const tokenizerJson = readOptionalJson(file);
  if (tokenizerJson === undefined) {
    throw new ProcessorConfigError({
      file,
      field: "",
      reason: "missing: a processor directory needs tokenizer.json",
    });
  }
  return makeQwenVLTokenizer(
    tokenizerJson,
    readOptionalJson(join(directory, "tokenizer_config.json")) ?? {},
    file,
  );
};
