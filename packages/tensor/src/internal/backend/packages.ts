import { createRequire } from "node:module";
import { dirname } from "node:path";

const require = createRequire(import.meta.url);

const resolves = (specifier: string): string | undefined => {
  try {
    return require.resolve(specifier);
  } catch {
    return undefined;
  }
};

/** The directory of an installed package, or `undefined` when it cannot be resolved from here. */
export const packageDirectory = (name: string): string | undefined => {
  const manifest = resolves(`${name}/package.json`);
  return manifest === undefined ? undefined : dirname(manifest);
};

/** Whether a package can be resolved from `@apo-rl/tensor`. */
export const isInstalled = (name: string): boolean =>
  packageDirectory(name) !== undefined || resolves(name) !== undefined;

/**
 * Imports an optional package by name. The specifier is a variable so that bundlers and the
 * TypeScript compiler do not require the package to exist.
 */
export const importOptional = (specifier: string): Promise<Record<string, unknown>> =>
  import(/* @vite-ignore */ specifier) as Promise<Record<string, unknown>>;

/** A named export of a module namespace, looking through a CommonJS `default` wrapper. */
export const exportOf = (module: Record<string, unknown>, name: string): unknown => {
  if (name in module) return module[name];
  const wrapped = module.default as Record<string, unknown> | undefined;
  return wrapped?.[name];
};

/** The first line of an error's message, for one-line reasons. */
export const firstLine = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "unknown error";
