// Each publishable package must install on its own from its tarball and import from plain Node ESM,
// as a user would consume it. Workspace dependencies are satisfied by their own tarballs only.
// Then, as a newcomer meets them, in one fresh npm project (scripts/consumer-project.mjs): every
// tarball with the latest peers in range (one copy of each), the README install lines, the consumer
// type-check on each supported TypeScript, and every doc example.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkConsumerProject } from "./consumer-project.mjs";
import { run, workspacePackages } from "./workspace.mjs";

const publishable = workspacePackages().filter(({ manifest }) => !manifest.private);
const work = mkdtempSync(join(tmpdir(), "apo-rl-pack-"));
const tarballs = join(work, "tarballs");
mkdirSync(tarballs);

for (const { dir } of publishable)
  run("pnpm", ["pack", "--pack-destination", tarballs], { cwd: dir, stdio: "ignore" });
const tarballOf = new Map(
  publishable.map(({ manifest }) => {
    const file = `${manifest.name.replace("@", "").replace("/", "-")}-${manifest.version}.tgz`;
    if (!readdirSync(tarballs).includes(file)) throw new Error(`pnpm pack did not produce ${file}`);
    return [manifest.name, join(tarballs, file)];
  }),
);
const overrides = Object.fromEntries([...tarballOf].map(([name, file]) => [name, `file:${file}`]));

const importCheck = `
const name = process.argv[2];
const module = await import(name);
const names = Object.keys(module);
if (names.length === 0) { console.error(name + ": the entry point exports nothing"); process.exit(1); }
try { await import(name + "/dist/internal/x.js"); console.error(name + ": internals are reachable"); process.exit(1); }
catch (error) { if (error.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED") throw error; }
console.log(name + ": imported (" + names.length + " exports), internals hidden");
`;

/** The required (non-optional) peer dependencies of a package, as `name@range` specs. */
const requiredPeerSpecs = (manifest) =>
  Object.entries(manifest.peerDependencies ?? {})
    .filter(([peer]) => manifest.peerDependenciesMeta?.[peer]?.optional !== true)
    .map(([peer, range]) => `${peer}@${range}`);
const manifestOf = new Map(publishable.map(({ manifest }) => [manifest.name, manifest]));

let failed = 0;
for (const [name, file] of tarballOf) {
  const project = join(work, name.replace("@apo-rl/", ""));
  mkdirSync(project);
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module", pnpm: { overrides } }, null, 2),
  );
  writeFileSync(join(project, "check.mjs"), importCheck);
  try {
    // The package and its required peers, as its README's install line has them; optional peers not.
    const peers = requiredPeerSpecs(manifestOf.get(name));
    execFileSync("pnpm", ["add", `file:${file}`, ...peers, "--config.auto-install-peers=false", "--silent"], {
      cwd: project,
      stdio: ["ignore", "ignore", "inherit"],
    });
    execFileSync("node", ["check.mjs", name], { cwd: project, stdio: "inherit" });
  } catch (error) {
    failed += 1;
    console.error(`${name}: FAILED to install or import from its tarball (${error.message.split("\n")[0]})`);
  }
}
if (failed === 0)
  console.log(`package install check: ${tarballOf.size} packages install and import on their own`);
failed += checkConsumerProject({ work, publishable, tarballOf });
rmSync(work, { recursive: true, force: true });
if (failed > 0) process.exit(1);
