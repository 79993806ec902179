// Loads a TypeScript module of this repository in a plain Node process (for tests that need a child
// process), resolving @apo-rl/* packages to their sources as the vitest config does: no build needed.
// Shared by the test supports of every package and app.
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer, createServerModuleRunner } from "vite";

const packages = fileURLToPath(new URL("../../packages/", import.meta.url));
const workspaceAliases = readdirSync(packages).map((name) => ({
  find: `@apo-rl/${name}`,
  replacement: `${packages}${name}/src/index.ts`,
}));

/**
 * Import `specifier` (relative to `callerUrl`, the caller's `import.meta.url`) through a Vite module
 * runner that stays open for the life of the process (the code imports backends dynamically later
 * on).
 *
 * Deep imports into tfjs-core's ESM build (gradient and chained-op registration) use extensionless
 * relative imports that Node cannot load: they point at the files, resolved from the caller's
 * package, so that Vite processes them, as vitest does. The package entry itself stays external
 * (one tfjs engine).
 */
export const importTypeScript = async (specifier, callerUrl) => {
  const tfjsCoreDist = `${dirname(createRequire(callerUrl).resolve("@tensorflow/tfjs-core/package.json"))}/dist/`;
  const tfjsDeepImports = { find: /^@tensorflow\/tfjs-core\/dist\/(.*)$/, replacement: `${tfjsCoreDist}$1` };
  const server = await createServer({
    configFile: false,
    logLevel: "silent",
    appType: "custom",
    server: { middlewareMode: true, hmr: false, ws: false, watch: null },
    optimizeDeps: { noDiscovery: true, include: [] },
    resolve: { alias: [tfjsDeepImports, ...workspaceAliases] },
  });
  const runner = createServerModuleRunner(server.environments.ssr, { hmr: false });
  return runner.import(fileURLToPath(new URL(specifier, callerUrl)));
};
