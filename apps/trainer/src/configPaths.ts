import { dirname, isAbsolute, resolve } from "node:path";

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The path keys of the trainer's config (`model.checkpoint`, `data.path`, `data.heldOutPath`,
 * `output.runDir`) and of the SFT config (`model.base`, `output.dir`).
 *
 * @since 0.1.0
 * @category config
 */
export const CONFIG_PATH_KEYS: ReadonlyArray<readonly [string, string]> = [
  ["model", "checkpoint"],
  ["model", "base"],
  ["data", "path"],
  ["data", "heldOutPath"],
  ["output", "runDir"],
  ["output", "dir"],
];

/** Names that are not paths: the embedded demo and reasoning warm-start checkpoints. */
const RESERVED = new Set(["demo", "reasoning"]);

/**
 * Resolve the relative paths a configuration file sets against that file's directory (so a config
 * works from any working directory). Absolute paths, `demo`, and values that are not strings are
 * left alone; keys the file does not set are not added (defaults and `--set` overrides stay
 * relative to the working directory). Returns a new object.
 *
 * @since 0.1.0
 * @category config
 */
export const resolveConfigPaths = (config: unknown, file: string): JsonObject => {
  if (!isObject(config)) return {};
  const base = dirname(resolve(file));
  const resolved: JsonObject = { ...config };
  for (const [section, key] of CONFIG_PATH_KEYS) {
    const node = resolved[section];
    if (!isObject(node)) continue;
    const value = node[key];
    if (typeof value !== "string" || value === "" || isAbsolute(value) || RESERVED.has(value)) continue;
    resolved[section] = { ...node, [key]: resolve(base, value) };
  }
  return resolved;
};
