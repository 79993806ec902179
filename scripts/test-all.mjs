// `pnpm test`: everything CI checks, in order — build, typecheck, lint, unit tests, package checks.
import { run } from "./workspace.mjs";

const steps = [
  ["build", "pnpm", ["exec", "turbo", "run", "build", "--output-logs=errors-only"]],
  ["typecheck", "pnpm", ["exec", "turbo", "run", "typecheck", "--output-logs=errors-only"]],
  ["lint", "pnpm", ["run", "lint"]],
  ["unit tests", "pnpm", ["exec", "vitest", "run"]],
  ["publint", "node", ["scripts/publint-all.mjs"]],
  ["package install check", "node", ["scripts/check-packages-install.mjs"]],
  ["changesets", "pnpm", ["exec", "changeset", "status"]],
];

const timings = [];
for (const [name, command, args] of steps) {
  console.log(`\n── ${name} ──`);
  timings.push([name, run(command, args)]);
}
console.log("\n── summary ──");
for (const [name, seconds] of timings) console.log(`${name.padEnd(24)} ok  ${seconds.toFixed(1)} s`);
