// Architecture gate: the package graph of DEVELOPERS.md, declared dependencies, and no import cycles.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { root, workspacePackages } from "./workspace.mjs";

const packages = workspacePackages();
const byName = new Map(packages.map((entry) => [entry.manifest.name, entry]));
const siblingsThatNeverMeet = [
  "@apo-rl/rewards",
  "@apo-rl/qwen-vl",
  "@apo-rl/datasets",
  "@apo-rl/objectives",
];
const problems = [];

const sourceFiles = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });

const importPattern = /(?:import|export)\s[^"']*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
const importsOf = (file) =>
  [...readFileSync(file, "utf8").matchAll(importPattern)].map((match) => match[1] ?? match[2]);

const workspaceName = (specifier) => specifier.match(/^(@apo-rl\/[^/]+)/)?.[1];

// 1. Package-level rules.
for (const { dir, group, manifest } of packages) {
  const declared = { ...manifest.dependencies, ...manifest.devDependencies, ...manifest.peerDependencies };
  const name = manifest.name;
  if (name !== "@apo-rl/core" && !declared["@apo-rl/core"])
    problems.push(`${name}: must depend on @apo-rl/core`);
  for (const needsTensor of ["@apo-rl/objectives", "@apo-rl/qwen-vl"])
    if (name === needsTensor && !declared["@apo-rl/tensor"])
      problems.push(`${name}: must depend on @apo-rl/tensor`);
  for (const file of sourceFiles(join(dir, "src"))) {
    for (const specifier of importsOf(file)) {
      const target = workspaceName(specifier);
      if (!target || target === name) continue;
      const where = relative(root, file);
      if (!byName.has(target)) problems.push(`${where}: imports unknown workspace package ${target}`);
      else if (group === "packages" && byName.get(target).group === "apps")
        problems.push(`${where}: a package must not import an app (${target})`);
      if (siblingsThatNeverMeet.includes(name) && siblingsThatNeverMeet.includes(target))
        problems.push(`${where}: ${name} must not import ${target}; the apps assemble them`);
      if (!declared[target])
        problems.push(`${where}: imports ${target}, which package.json does not declare`);
    }
  }
}

// 2. No cycles between workspace packages.
const visit = (name, trail) => {
  if (trail.includes(name)) {
    problems.push(`package cycle: ${[...trail.slice(trail.indexOf(name)), name].join(" → ")}`);
    return;
  }
  const entry = byName.get(name);
  for (const dependency of Object.keys(entry?.manifest.dependencies ?? {}))
    if (byName.has(dependency)) visit(dependency, [...trail, name]);
};
for (const name of byName.keys()) visit(name, []);

// 3. No cycles between the source files of one package (relative imports).
for (const { dir } of packages) {
  const files = sourceFiles(join(dir, "src"));
  const edges = new Map(
    files.map((file) => [
      file,
      importsOf(file)
        .filter((specifier) => specifier.startsWith("."))
        .map((specifier) => resolve(dirname(file), specifier).replace(/\.js$/, ".ts")),
    ]),
  );
  const state = new Map();
  const walk = (file, stack) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") {
      const cycle = [...stack.slice(stack.indexOf(file)), file].map((path) => relative(root, path));
      problems.push(`import cycle: ${cycle.join(" → ")}`);
      return;
    }
    state.set(file, "open");
    for (const next of edges.get(file) ?? []) if (edges.has(next)) walk(next, [...stack, file]);
    state.set(file, "done");
  };
  for (const file of files) walk(file, []);
}

// 4. Portable entry points (`src/portable.ts` behind a `./portable` export, and the whole of the
//    packages listed below) import no Node built-in and no Node-only package, directly or through
//    their relative imports, and reach other workspace packages only through portable entry points:
//    a browser bundle (apps/playground) imports them.
const fullyPortable = ["@apo-rl/core", "@apo-rl/objectives"];
const nodeOnlyPackages = ["pngjs", "tinypool", "sharp", "jpeg-js", "yaml"];
const runtimeImportPattern =
  /(?:^|\n)\s*(?:import|export)\s(?!type\s)[^"';]*?from\s*["']([^"']+)["']|(?:^|\n)\s*import\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
const runtimeImportsOf = (file) =>
  [...readFileSync(file, "utf8").matchAll(runtimeImportPattern)].map(
    (match) => match[1] ?? match[2] ?? match[3],
  );
const isNodeBuiltin = (specifier) => specifier.startsWith("node:") || builtinModules.includes(specifier);
const portableEntries = packages.flatMap(({ dir, manifest }) => {
  const entries = [];
  if (fullyPortable.includes(manifest.name))
    entries.push({ name: manifest.name, file: join(dir, "src/index.ts") });
  if (manifest.exports?.["./portable"] !== undefined)
    entries.push({ name: `${manifest.name}/portable`, file: join(dir, "src/portable.ts") });
  return entries;
});
const portableSpecifiers = new Set(portableEntries.map((entry) => entry.name));
for (const entry of portableEntries) {
  if (!existsSync(entry.file)) {
    problems.push(`${entry.name}: declared portable but ${relative(root, entry.file)} does not exist`);
    continue;
  }
  const seen = new Set();
  const visitPortable = (file, trail) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of runtimeImportsOf(file)) {
      const chain = [...trail, relative(root, file)].join(" → ");
      if (specifier.startsWith(".")) {
        const target = resolve(dirname(file), specifier).replace(/\.js$/, ".ts");
        visitPortable(existsSync(target) ? target : target.replace(/\.ts$/, "/index.ts"), [
          ...trail,
          relative(root, file),
        ]);
      } else if (isNodeBuiltin(specifier))
        problems.push(`portable ${entry.name} imports the Node built-in ${specifier} (${chain})`);
      else if (nodeOnlyPackages.includes(specifier))
        problems.push(`portable ${entry.name} imports the Node-only package ${specifier} (${chain})`);
      else if (workspaceName(specifier) !== undefined && !portableSpecifiers.has(specifier))
        problems.push(
          `portable ${entry.name} imports ${specifier}, which is not a portable entry point (${chain})`,
        );
    }
  };
  visitPortable(entry.file, []);
}

if (problems.length > 0) {
  console.error(`architecture check: ${problems.length} problem(s)`);
  for (const problem of [...new Set(problems)]) console.error(`  ${problem}`);
  process.exit(1);
}
console.log(
  `architecture check: ${packages.length} packages, graph as documented, no cycles, ${portableEntries.length} portable entry points free of Node built-ins`,
);
