// Shared helpers for the repository scripts: the list of workspace packages and a checked spawn.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Every workspace package: `{ dir, manifest }`, libraries first. */
export const workspacePackages = () =>
  ["packages", "apps"].flatMap((group) =>
    readdirSync(join(root, group))
      .map((name) => join(root, group, name))
      .filter((dir) => existsSync(join(dir, "package.json")))
      .map((dir) => ({ dir, group, manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) })),
  );

/** Run a command with inherited output; exit the script with its status when it fails. */
export const run = (command, args, options = {}) => {
  const started = Date.now();
  const result = spawnSync(command, args, { stdio: "inherit", cwd: root, ...options });
  if (result.status !== 0) {
    console.error(`\n✗ ${command} ${args.join(" ")} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
  return (Date.now() - started) / 1000;
};
