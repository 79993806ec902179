#!/usr/bin/env node
// The webgpu smoke test of `pnpm test`: `APO_BACKEND=webgpu pnpm demo --set train.steps=3` (with a
// smaller held-out set, to keep it short on Mesa lavapipe) must write summary.json with
// backend "webgpu". Without a WebGPU adapter it is skipped, saying why — unless
// APO_REQUIRE_WEBGPU=1 (CI sets it after installing lavapipe), then that is a failure.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "./workspace.mjs";

const { initBackend, testBackends } = await import(join(root, "packages/tensor/dist/index.js"));
if (!(await testBackends()).includes("webgpu")) {
  let reason = "no WebGPU adapter";
  try {
    await initBackend("webgpu");
  } catch (error) {
    reason = error.message;
  }
  if (process.env.APO_REQUIRE_WEBGPU === "1") {
    console.error(`webgpu smoke: APO_REQUIRE_WEBGPU=1 but webgpu is not usable: ${reason}`);
    process.exit(1);
  }
  console.log(`webgpu smoke: skipped (${reason})`);
  process.exit(0);
}
const runDirectory = mkdtempSync(join(tmpdir(), "apo-webgpu-demo-"));
const result = spawnSync(
  process.execPath,
  [
    join(root, "apps/trainer/dist/cli.js"),
    "demo",
    "--set",
    "train.steps=3",
    "--set",
    "data.heldOutSize=16",
    "--run-dir",
    runDirectory,
  ],
  { stdio: "inherit", cwd: root, env: { ...process.env, APO_BACKEND: "webgpu" } },
);
if (result.status !== 0) {
  console.error(`webgpu smoke: the demo failed (exit ${result.status ?? result.signal})`);
  process.exit(1);
}
const summary = JSON.parse(readFileSync(join(runDirectory, "summary.json"), "utf8"));
if (summary.backend !== "webgpu" || summary.steps !== 3) {
  console.error(`webgpu smoke: summary.json says backend ${summary.backend}, ${summary.steps} steps`);
  process.exit(1);
}
console.log(`webgpu smoke: 3 demo steps on webgpu, summary.json backend "webgpu" (${runDirectory})`);
