import { decodeSync, InvalidInputError } from "@apo-rl/core";
import { resolveConfigPaths } from "../configPaths.js";
import { applyOverrides, readConfigFile } from "../loadConfig.js";
import { SftConfig } from "./SftConfig.js";

const readable = (reason: string) => (reason === "Expected no excess property" ? "unknown key" : reason);

/**
 * Read an SFT config (YAML or JSON) and apply `key.path=value` overrides; a bad value or unknown key
 * throws core's `InvalidInputError` naming it, an unreadable file or bad override `ConfigError`.
 *
 * @since 0.1.0
 * @category sft
 */
export const loadSftConfig = (options: {
  readonly file?: string;
  readonly overrides?: ReadonlyArray<string>;
}): SftConfig => {
  const fromFile =
    options.file === undefined ? {} : resolveConfigPaths(readConfigFile(options.file), options.file);
  const merged = applyOverrides(fromFile, options.overrides ?? []);
  try {
    return decodeSync(
      SftConfig,
      options.file === undefined ? "sft config" : `sft config ${options.file}`,
    )(merged);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new InvalidInputError({
      subject: error.subject,
      field: error.field,
      reason: readable(error.reason),
      problems: error.problems.map((problem) => ({ field: problem.field, reason: readable(problem.reason) })),
    });
  }
};
