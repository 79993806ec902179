// `pnpm test`: everything CI checks, in order — build, typecheck, lint, unit tests, package checks.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { root, run } from "./workspace.mjs";

const vitestReport = join(root, ".tmp", "vitest-report.json");

const steps = [
  ["build", "pnpm", ["exec", "turbo", "run", "build", "--output-logs=errors-only"]],
  ["typecheck", "pnpm", ["exec", "turbo", "run", "typecheck", "--output-logs=errors-only"]],
  ["lint", "pnpm", ["run", "lint"]],
  [
    "unit tests",
    "pnpm",
    ["exec", "vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${vitestReport}`],
  ],
  ["webgpu demo smoke", "node", ["scripts/webgpu-smoke.mjs"]],
  ["playground in Chromium", "node", ["scripts/playground-browser-test.mjs"]],
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

const report = JSON.parse(readFileSync(vitestReport, "utf8"));
console.log(
  `tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests + report.numTodoTests} skipped`,
);
// Tests of the per-backend suites, by the backend named in their describe titles ("… on webgpu").
const perBackend = new Map();
for (const file of report.testResults)
  for (const test of file.assertionResults) {
    const backend = test.ancestorTitles.join(" ").match(/\b(webgpu|wasm|cpu|tfjs-node-gpu|tfjs-node)\b/)?.[1];
    if (backend === undefined) continue;
    const counts = perBackend.get(backend) ?? { passed: 0, other: 0 };
    if (test.status === "passed") counts.passed += 1;
    else counts.other += 1;
    perBackend.set(backend, counts);
  }
console.log(
  `per backend: ${[...perBackend.entries()].map(([backend, counts]) => `${backend} ${counts.passed} passed${counts.other > 0 ? ` (${counts.other} not)` : ""}`).join(", ")}`,
);
