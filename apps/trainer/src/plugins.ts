import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { PluginError } from "./errors.js";

const looksLikePath = (plugin: string): boolean =>
  plugin.startsWith(".") || isAbsolute(plugin) || /\.(m?js|cjs|ts)$/.test(plugin);

/** The URL to import for `plugin`: a file (relative to `baseDirectory`) or a package resolved from there. */
const locate = (plugin: string, baseDirectory: string): string => {
  if (looksLikePath(plugin)) {
    const file = resolve(baseDirectory, plugin);
    if (!existsSync(file)) throw new PluginError({ plugin, reason: `no such file ${file}` });
    return pathToFileURL(file).href;
  }
  try {
    return pathToFileURL(createRequire(join(baseDirectory, "package.json")).resolve(plugin)).href;
  } catch {
    // An import-only package (no `require` condition): let the ESM loader resolve it from here.
    return plugin;
  }
};

/**
 * Import plugins before the configuration is decoded, in order. A plugin is a module (a file path,
 * relative to `baseDirectory`, or a package name resolved from it) that registers objectives,
 * advantage estimators or policy losses through `@apo-rl/objectives`' public API when it is
 * imported; if it exports a `default` function, that is called (and awaited) too. Each plugin is
 * imported once per process. Throws `PluginError` naming the plugin.
 *
 * @since 0.2.0
 * @category plugins
 */
export const loadPlugins = async (
  plugins: ReadonlyArray<string>,
  baseDirectory: string = process.cwd(),
): Promise<void> => {
  for (const plugin of plugins) {
    const url = locate(plugin, baseDirectory);
    let module: { readonly default?: unknown };
    try {
      module = (await import(url)) as { readonly default?: unknown };
    } catch (error) {
      throw new PluginError({
        plugin,
        reason: `failed to load: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
    if (typeof module.default === "function") {
      try {
        await (module.default as () => unknown)();
      } catch (error) {
        throw new PluginError({
          plugin,
          reason: `its default export failed: ${error instanceof Error ? error.message : String(error)}`,
        });
      }
    }
  }
};
