// Loads a TypeScript module of this repository in a plain Node process (for tests that need a child
// process), resolving @apo-rl/* packages to their sources as the vitest config does: no build needed.
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer, createServerModuleRunner } from "vite";

const packages = fileURLToPath(new URL("../../../", import.meta.url));
const workspaceAliases = readdirSync(packages).map((name) => ({
  find: `@apo-rl/${name}`,
  replacement: `${packages}${name}/src/index.ts`,
}));

// Deep imports into tfjs-core's ESM build (gradient and chained-op registration) use extensionless
// relative imports that Node cannot load: point them at the files so that Vite processes them, as
// vitest does. The package entry itself stays external (one tfjs engine).
const tfjsCoreDist = `${dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-core/package.json"))}/dist/`;
const tfjsDeepImports = { find: /^@tensorflow\/tfjs-core\/dist\/(.*)$/, replacement: `${tfjsCoreDist}$1` };

/**
 * Import `relativePath` (relative to this folder) through a Vite module runner that stays open for
 * the life of the process (the code imports backends dynamically later on).
 */
export const importTypeScript = async (relativePath) => {
  const server = await createServer({
    configFile: false,
    logLevel: "silent",
    appType: "custom",
    server: { middlewareMode: true, hmr: false, ws: false, watch: null },
    optimizeDeps: { noDiscovery: true, include: [] },
    resolve: { alias: [tfjsDeepImports, ...workspaceAliases] },
  });
  const runner = createServerModuleRunner(server.environments.ssr, { hmr: false });
  return runner.import(fileURLToPath(new URL(relativePath, import.meta.url)));
};
