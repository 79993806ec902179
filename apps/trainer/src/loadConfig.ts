import { readFileSync } from "node:fs";
import { dirname, resolve as resolvePath } from "node:path";
import { decodeSync, InvalidInputError } from "@apo-rl/core";
import { parse as parseYaml } from "yaml";
import { resolveConfigPaths } from "./configPaths.js";
import { ConfigError } from "./errors.js";
import { loadPlugins } from "./plugins.js";
import { TrainerConfig } from "./TrainerConfig.js";

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Read a configuration file: JSON when the name ends in `.json`, YAML otherwise.
 *
 * @since 0.1.0
 * @category config
 */
export const readConfigFile = (file: string): unknown => {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new ConfigError({
      source: file,
      reason: `cannot read the file (${(cause as Error).message})`,
      cause,
    });
  }
  try {
    const value: unknown = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
    if (!isObject(value)) throw new Error("the top level must be a mapping of sections");
    return value;
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause;
    throw new ConfigError({
      source: file,
      reason: `not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${(cause as Error).message}`,
      cause,
    });
  }
};

/**
 * Parse one `key.path=value` override. The value is read as a YAML scalar or flow collection, so
 * `1e-6` is a number, `true` a boolean, `[0.9, 0.99]` a list and `demo` a string.
 *
 * @since 0.1.0
 * @category config
 */
export const parseOverride = (
  override: string,
): { readonly path: ReadonlyArray<string>; readonly value: unknown } => {
  const separator = override.indexOf("=");
  const key = separator === -1 ? "" : override.slice(0, separator).trim();
  const path = key.split(".");
  if (separator === -1 || path.some((segment) => segment === ""))
    throw new ConfigError({
      source: `override ${JSON.stringify(override)}`,
      reason: "expected key.path=value",
    });
  const raw = override.slice(separator + 1);
  try {
    return { path, value: raw.trim() === "" ? "" : parseYaml(raw) };
  } catch (cause) {
    throw new ConfigError({
      source: `override ${key}`,
      reason: `cannot parse the value: ${(cause as Error).message}`,
    });
  }
};

/**
 * Apply `key.path=value` overrides to a configuration object (a new object is returned).
 *
 * @since 0.1.0
 * @category config
 */
export const applyOverrides = (config: unknown, overrides: ReadonlyArray<string>): JsonObject => {
  const root: JsonObject = isObject(config) ? structuredClone(config) : {};
  for (const override of overrides) {
    const { path, value } = parseOverride(override);
    let node: JsonObject = root;
    path.slice(0, -1).forEach((segment, index) => {
      const next = node[segment];
      if (next === undefined) node[segment] = {};
      else if (!isObject(next))
        throw new ConfigError({
          source: `override ${path.join(".")}`,
          reason: `${path.slice(0, index + 1).join(".")} is not a section`,
        });
      node = node[segment] as JsonObject;
    });
    node[path[path.length - 1]!] = value;
  }
  return root;
};

/**
 * Decode a configuration object: defaults applied, unknown keys and bad values rejected with
 * core's `InvalidInputError` naming the key (e.g. `optimizer.lr`).
 *
 * @since 0.1.0
 * @category config
 */
export const resolveConfig = (input: unknown, subject = "trainer config"): TrainerConfig => {
  try {
    return decodeSync(TrainerConfig, subject)(input);
  } catch (error) {
    throw error instanceof InvalidInputError ? withReadableReasons(error) : error;
  }
};

const readableReason = (reason: string): string =>
  reason === "Expected no excess property" ? "unknown key" : reason;

/** Say "unknown key" rather than the schema's wording for an excess property. */
const withReadableReasons = (error: InvalidInputError): InvalidInputError =>
  new InvalidInputError({
    subject: error.subject,
    field: error.field,
    reason: readableReason(error.reason),
    problems: error.problems.map((problem) => ({
      field: problem.field,
      reason: readableReason(problem.reason),
    })),
  });

/**
 * Read a YAML/JSON file (optional), resolve its relative paths against its directory
 * (`resolveConfigPaths`), apply the overrides (relative to the working directory) and decode.
 *
 * @since 0.1.0
 * @category config
 */
export const loadConfig = (options: {
  readonly file?: string;
  readonly overrides?: ReadonlyArray<string>;
}): TrainerConfig => {
  const fromFile =
    options.file === undefined ? {} : resolveConfigPaths(readConfigFile(options.file), options.file);
  const merged = applyOverrides(fromFile, options.overrides ?? []);
  return resolveConfig(merged, options.file === undefined ? "trainer config" : `config ${options.file}`);
};

/**
 * Read the config file, import its `plugins` (paths relative to the file) and then the command
 * line's `plugins` (relative to the working directory), and only then apply the overrides and
 * decode: a plugin's objectives are registered before anything names them.
 *
 * @since 0.2.0
 * @category config
 */
export const loadConfigWithPlugins = async (options: {
  readonly file?: string;
  readonly overrides?: ReadonlyArray<string>;
  readonly plugins?: ReadonlyArray<string>;
}): Promise<TrainerConfig> => {
  const fromFile = options.file === undefined ? {} : readConfigFile(options.file);
  const listed = (fromFile as { readonly plugins?: unknown }).plugins;
  if (listed !== undefined && !(Array.isArray(listed) && listed.every((item) => typeof item === "string")))
    throw new ConfigError({ source: options.file ?? "config", reason: "plugins must be a list of strings" });
  await loadPlugins(
    (listed as ReadonlyArray<string> | undefined) ?? [],
    options.file === undefined ? process.cwd() : dirname(resolvePath(options.file)),
  );
  await loadPlugins(options.plugins ?? []);
  // The file's relative paths resolve against its directory, as in `loadConfig`.
  const resolved = options.file === undefined ? fromFile : resolveConfigPaths(fromFile, options.file);
  const merged = applyOverrides(resolved, options.overrides ?? []);
  return resolveConfig(merged, options.file === undefined ? "trainer config" : `config ${options.file}`);
};
