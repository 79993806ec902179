// The packages as a newcomer meets them: one fresh npm project ("type": "module") that installs every
// packed tarball with the latest peer versions in range, then checks
// - one copy of each peer dependency (`npm ls effect`),
// - each package README starts with a complete `npm i …` line (its required peers included) and has
//   at least one runnable example,
// - the consumer type-check: every package's types and every doc example under the tsconfig of
//   docs/getting-started.md, on each supported TypeScript version,
// - every doc example that is not marked as a fragment runs (scripts/doc-examples.mjs).
// Used by check-packages-install.mjs (which packs the tarballs); `node scripts/consumer-project.mjs`
// packs and runs it alone. APO_CONSUMER_DIR=<dir> keeps (and reuses) the project there.
import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { collectExamples, consumerTsconfig, installLine } from "./doc-examples.mjs";
import { root, workspacePackages } from "./workspace.mjs";

/** The TypeScript versions a consumer may use (documented in docs/getting-started.md). */
export const SUPPORTED_TYPESCRIPT = [
  ["typescript-5.9", "~5.9.3"],
  ["typescript-7", "^7.0.2"],
];
const EXAMPLE_TIMEOUT_MS = 180_000;
// biome-ignore lint/suspicious/noUndeclaredEnvVars: a debugging switch of this script, not a turbo task input
const keptProject = process.env.APO_CONSUMER_DIR;
const SHELL_TIMEOUT_MS = 30_000;

const npm = (args, cwd, options = {}) =>
  execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    ...options,
  });

/** The required (non-optional) peer dependencies of the packages, with their common range. */
const requiredPeers = (publishable) => {
  const peers = new Map();
  for (const { manifest } of publishable)
    for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) {
      if (manifest.peerDependenciesMeta?.[name]?.optional) continue;
      const known = peers.get(name);
      if (known !== undefined && known !== range)
        throw new Error(`${manifest.name}: peer ${name}@${range}, another package declares ${known}`);
      peers.set(name, range);
    }
  return peers;
};

/** The newest published version in `range`. */
const latestInRange = (name, range, cwd) => {
  const versions = JSON.parse(npm(["view", `${name}@${range}`, "version", "--json"], cwd));
  return Array.isArray(versions) ? versions[versions.length - 1] : versions;
};

const checkInstallLines = (publishable, peers) => {
  const problems = [];
  for (const { dir, manifest } of publishable) {
    const readme = join(dir, "README.md");
    const line = existsSync(readme) ? installLine(readFileSync(readme, "utf8")) : undefined;
    if (line === undefined) {
      problems.push(`${manifest.name}: README.md does not start with an \`npm i …\` block`);
      continue;
    }
    // The consumer type-check's settings are stated in every README.
    for (const setting of ['"strict": true', '"skipLibCheck": true', '"nodenext"'])
      if (!readFileSync(readme, "utf8").includes(setting))
        problems.push(`${manifest.name}: README.md does not state the TypeScript setting ${setting}`);
    const words = line.split(/\s+/);
    if (words[0] !== "npm" || words[1] !== "i" || words[2] !== manifest.name)
      problems.push(`${manifest.name}: README install line is not \`npm i ${manifest.name} …\`: ${line}`);
    for (const peer of Object.keys(manifest.peerDependencies ?? {})) {
      if (!peers.has(peer)) continue;
      const major = peers.get(peer).replace(/^\^/, "").split(".")[0];
      if (!words.includes(`${peer}@${major}`))
        problems.push(`${manifest.name}: README install line lacks the peer \`${peer}@${major}\`: ${line}`);
    }
  }
  return problems;
};

const checkOneCopy = (project, peers) =>
  [...peers.keys()].flatMap((peer) => {
    const listing = spawnSync("npm", ["ls", peer, "--all", "--parseable"], {
      cwd: project,
      encoding: "utf8",
    });
    const copies = new Set(listing.stdout.split("\n").filter((line) => line.includes("node_modules")));
    console.log(`npm ls ${peer}: ${copies.size} cop${copies.size === 1 ? "y" : "ies"}`);
    return copies.size === 1 ? [] : [`${peer}: ${copies.size} copies in a fresh project (npm ls ${peer})`];
  });

/** Every shipped source map embeds its sources, so stack traces and debuggers show the TypeScript. */
const checkSourceMaps = (project, publishable) => {
  const problems = [];
  let maps = 0;
  for (const { manifest } of publishable) {
    const dist = join(project, "node_modules", manifest.name, "dist");
    for (const file of readdirSync(dist, { recursive: true }).filter((name) =>
      String(name).endsWith(".js.map"),
    )) {
      const map = JSON.parse(readFileSync(join(dist, String(file)), "utf8"));
      maps += 1;
      const missing = map.sources.filter((_, index) => typeof map.sourcesContent?.[index] !== "string");
      if (missing.length > 0)
        problems.push(
          `${manifest.name}/dist/${file}: no sourcesContent for ${missing.slice(0, 3).join(", ")}`,
        );
    }
  }
  if (problems.length === 0) console.log(`source maps: ${maps} maps, every source embedded (sourcesContent)`);
  return problems;
};

const typeCheck = (project, examples, publishable) => {
  const problems = [];
  const compilerOptions = consumerTsconfig();
  const everyPackage = publishable
    .map(({ manifest }, index) => `import * as package${index} from "${manifest.name}";`)
    .concat(`export const packages = [${publishable.map((_, index) => `package${index}`).join(", ")}];`)
    .join("\n");
  writeFileSync(join(project, "every-package.ts"), `${everyPackage}\n`);
  const files = ["every-package.ts", ...examples.map((example) => `examples/${example.slug}.ts`)];
  for (const [alias] of SUPPORTED_TYPESCRIPT) {
    const emit = alias === SUPPORTED_TYPESCRIPT[0][0];
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify(
        { compilerOptions: { ...compilerOptions, noEmit: !emit, outDir: "build", rootDir: "." }, files },
        null,
        2,
      ),
    );
    const tsc = join(project, "node_modules", alias, "bin", "tsc");
    const version = execFileSync("node", [tsc, "--version"], { cwd: project, encoding: "utf8" }).trim();
    const started = Date.now();
    const result = spawnSync("node", [tsc, "-p", "tsconfig.json"], { cwd: project, encoding: "utf8" });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (result.status === 0)
      console.log(`consumer type-check (${version}, strict): clean, ${files.length} files, ${seconds} s`);
    else {
      console.error(result.stdout, result.stderr);
      problems.push(`consumer type-check failed on ${version}`);
    }
  }
  // Our own declarations must compile without skipLibCheck: only third-party files may fail.
  const [alias] = SUPPORTED_TYPESCRIPT[SUPPORTED_TYPESCRIPT.length - 1];
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: { ...compilerOptions, skipLibCheck: false, noEmit: true },
        files: ["every-package.ts"],
      },
      null,
      2,
    ),
  );
  const strict = spawnSync(
    "node",
    [join(project, "node_modules", alias, "bin", "tsc"), "-p", "tsconfig.json"],
    {
      cwd: project,
      encoding: "utf8",
    },
  );
  const errors = strict.stdout.split("\n").filter((line) => /error TS\d+/.test(line));
  const ours = errors.filter(
    (line) => !line.startsWith("node_modules/") || line.startsWith("node_modules/@apo-rl/"),
  );
  const thirdParty = new Set(
    errors.map((line) => line.split("(")[0]).filter((file) => !file.startsWith("node_modules/@apo-rl/")),
  );
  if (ours.length > 0) {
    console.error(ours.join("\n"));
    problems.push(`apo-rl's declarations do not compile without skipLibCheck (${ours.length} errors)`);
  } else
    console.log(
      `without skipLibCheck: apo-rl's declarations clean; ${errors.length} errors in ${thirdParty.size} third-party files (${[...thirdParty].map((file) => file.replace(/^node_modules\//, "")).join(", ")})`,
    );
  return problems;
};

const runScripts = (project, examples) => {
  const failures = [];
  for (const example of examples) {
    const scratch = join(project, "runs", example.slug);
    mkdirSync(scratch, { recursive: true });
    const script = join(project, "build", "examples", `${example.slug}.js`);
    const started = Date.now();
    const result = spawnSync("node", [script], {
      cwd: scratch,
      encoding: "utf8",
      timeout: EXAMPLE_TIMEOUT_MS,
      env: { ...process.env, NODE_PATH: "" },
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (result.status === 0) console.log(`  ok    ${example.file}:${example.line} (${seconds} s)`);
    else {
      console.error(
        `  FAIL  ${example.file}:${example.line} (exit ${result.status ?? result.signal}, ${seconds} s)`,
      );
      console.error(`${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-25).join("\n"));
      failures.push(`${example.file}:${example.line}`);
    }
  }
  return failures;
};

const runShell = (project, examples) => {
  const failures = [];
  const path = `${join(project, "node_modules", ".bin")}:${process.env.PATH}`;
  for (const example of examples) {
    const scratch = join(project, "runs", example.slug);
    mkdirSync(scratch, { recursive: true });
    const started = Date.now();
    const result = spawnSync("bash", ["-euo", "pipefail", "-c", example.code], {
      cwd: scratch,
      encoding: "utf8",
      timeout: SHELL_TIMEOUT_MS,
      env: { ...process.env, PATH: path },
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (result.status === 0) console.log(`  ok    ${example.file}:${example.line} (shell, ${seconds} s)`);
    else {
      console.error(
        `  FAIL  ${example.file}:${example.line} (shell, exit ${result.status ?? result.signal}, ${seconds} s)`,
      );
      console.error(`${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-25).join("\n"));
      failures.push(`${example.file}:${example.line}`);
    }
  }
  return failures;
};

/**
 * Run every check in one fresh project under `work`; returns the number of failed checks (the
 * problems are printed).
 */
export const checkConsumerProject = ({ work, publishable, tarballOf }) => {
  const started = Date.now();
  const problems = [];
  const peers = requiredPeers(publishable);
  problems.push(...checkInstallLines(publishable, peers));

  const project = keptProject ?? join(work, "consumer");
  mkdirSync(project, { recursive: true });
  if (!existsSync(join(project, "node_modules"))) {
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "newcomer", private: true, type: "module" }, null, 2),
    );
    const peerSpecs = [...peers].map(([name, range]) => `${name}@${latestInRange(name, range, project)}`);
    const tools = SUPPORTED_TYPESCRIPT.map(([alias, range]) => `${alias}@npm:typescript@${range}`);
    console.log(`fresh project: npm i <${tarballOf.size} tarballs> ${peerSpecs.join(" ")}`);
    npm(["i", ...tarballOf.values(), ...peerSpecs], project);
    npm(["i", "-D", ...tools, "@types/node@22"], project);
  }
  problems.push(...checkOneCopy(project, peers));
  problems.push(...checkSourceMaps(project, publishable));

  const examples = collectExamples();
  const scripts = examples.filter((example) => example.kind === "script" && !example.fragment);
  const shells = examples.filter((example) => example.kind === "shell" && !example.fragment);
  for (const { dir, manifest } of publishable) {
    const file = join(dir, "README.md").slice(root.length + 1);
    if (!examples.some((example) => example.file === file && !example.fragment))
      problems.push(`${manifest.name}: README.md has no runnable example`);
  }
  rmSync(join(project, "examples"), { recursive: true, force: true });
  rmSync(join(project, "build"), { recursive: true, force: true });
  rmSync(join(project, "runs"), { recursive: true, force: true });
  mkdirSync(join(project, "examples"));
  for (const example of scripts)
    writeFileSync(
      join(project, "examples", `${example.slug}.ts`),
      // `export {}` keeps an example without imports a module (top-level await, own scope). A
      // JavaScript example is compiled and run like the others but not type-checked (it has no types).
      `${example.language === "js" ? "// @ts-nocheck\n" : ""}// ${example.file}:${example.line}\n${example.code}\nexport {};\n`,
    );
  problems.push(...typeCheck(project, scripts, publishable));
  const failed = existsSync(join(project, "build"))
    ? [...runScripts(project, scripts), ...runShell(project, shells)]
    : scripts.map((example) => `${example.file}:${example.line}`);
  const fragments = examples.filter((example) => example.fragment);
  console.log(
    `doc examples: ${scripts.length + shells.length - failed.length} of ${scripts.length + shells.length} executed ok ` +
      `(${scripts.length} ts/js, ${shells.length} shell), ${failed.length} failing; ` +
      `${fragments.filter((example) => example.kind === "script").length} ts/js fragments and ` +
      `${fragments.filter((example) => example.kind === "shell").length} shell blocks not run`,
  );
  if (failed.length > 0) problems.push(`doc examples failing: ${failed.join(", ")}`);
  for (const problem of problems) console.error(`✗ ${problem}`);
  console.log(`consumer project: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return problems.length;
};

// Standalone: pack, then run the consumer checks only.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const publishable = workspacePackages().filter(({ manifest }) => !manifest.private);
  const work = mkdtempSync(join(tmpdir(), "apo-rl-consumer-"));
  const tarballs = join(work, "tarballs");
  mkdirSync(tarballs);
  if (keptProject === undefined || !existsSync(join(keptProject, "node_modules")))
    for (const { dir } of publishable)
      execFileSync("pnpm", ["pack", "--pack-destination", tarballs], { cwd: dir, stdio: "ignore" });
  const tarballOf = new Map(
    publishable.map(({ manifest }) => [
      manifest.name,
      join(tarballs, `${manifest.name.replace("@", "").replace("/", "-")}-${manifest.version}.tgz`),
    ]),
  );
  const failed = checkConsumerProject({ work, publishable, tarballOf });
  rmSync(work, { recursive: true, force: true });
  if (failed > 0) process.exit(1);
}
