import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));

/** Every workspace package resolves to its TypeScript source in tests: no build needed to run them. */
const workspaces = ["packages", "apps"].flatMap((group) =>
  readdirSync(`${root}${group}`).map((name) => ({ group, name, dir: `${root}${group}/${name}` })),
);

// Subpaths (`@apo-rl/<name>/portable`) first: an alias also matches the specifiers it prefixes.
const alias = Object.fromEntries([
  ...workspaces
    .filter(({ dir }) => existsSync(`${dir}/src/portable.ts`))
    .map(({ name, dir }) => [`@apo-rl/${name}/portable`, `${dir}/src/portable.ts`]),
  ...workspaces
    .filter(({ group }) => group === "packages")
    .map(({ name, dir }) => [`@apo-rl/${name}`, `${dir}/src/index.ts`]),
]);

export default defineConfig({
  test: {
    projects: workspaces
      .filter(({ dir }) => existsSync(`${dir}/test`))
      .map(({ name, dir }) => ({
        resolve: { alias },
        test: {
          name,
          root: dir,
          include: ["test/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: "forks",
        },
      })),
  },
});
