#!/usr/bin/env node
// The playground's browser test (a stage of `pnpm test`): build the playground, serve its bundle on
// loopback, open it in headless Chromium (Debian's `chromium`, installed by .ci/run, driven by
// playwright-core with `executablePath`) and
//   1. train 5 steps on wasm: metrics finite, held-out accuracy present, and every per-step metric
//      equal to what `apo-train` computes in Node on the same seed and settings;
//   2. download the trained weights and load them in Node: equal to the Node run's checkpoint;
//   3. train 5 steps on webgpu (SwiftShader in headless Chromium): metrics finite;
//   4. save screenshots under .tmp/playground-test/;
// failing on any request outside the page's own origin. Without Chromium (or a WebGPU adapter for
// step 3) that part is skipped with the reason — unless APO_REQUIRE_CHROMIUM=1 (CI sets it after
// installing chromium), then it fails.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { servePlayground } from "./playground-server.mjs";
import { root, run } from "./workspace.mjs";

const output = join(root, ".tmp", "playground-test");
rmSync(output, { recursive: true, force: true });
mkdirSync(output, { recursive: true });
const required = process.env.APO_REQUIRE_CHROMIUM === "1";
const fail = (message) => {
  console.error(`playground browser test: ${message}`);
  process.exit(1);
};
const skip = (message) => {
  if (required) fail(`APO_REQUIRE_CHROMIUM=1 but ${message}`);
  console.log(`playground browser test: skipped (${message})`);
  process.exit(0);
};

const executablePath =
  process.env.CHROMIUM_PATH ??
  ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((path) =>
    existsSync(path),
  );
if (executablePath === undefined) skip("no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)");

run("pnpm", ["exec", "turbo", "run", "build", "--filter=@apo-rl/playground...", "--output-logs=errors-only"]);
const { chromium } = await import(join(root, "apps/playground/node_modules/playwright-core/index.mjs"));
const server = await servePlayground(join(root, "apps/playground/dist"));
const origin = new URL(server.url).origin;
// Chromium's GPU process wants a runtime directory; CI shells often have none.
if (process.env.XDG_RUNTIME_DIR === undefined) {
  process.env.XDG_RUNTIME_DIR = join(output, "xdg-runtime");
  mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
}
const browser = await chromium.launch({
  executablePath,
  // WebGPU in headless Chromium without a GPU: its SwiftShader adapter, behind the unsafe flag;
  // --no-sandbox because CI runs as root.
  args: ["--enable-unsafe-webgpu", "--no-sandbox"],
});
const foreign = [];
const failures = [];

const STEP_FIELDS = [
  "loss",
  "gradNorm",
  "kl",
  "entropy",
  "clipFraction",
  "dadsWeight",
  "stcrScale",
  "reward",
  "accuracy",
  "formatRate",
  "meanLength",
  "zeroSpreadGroupFraction",
  "generatedTokens",
];
const finite = (value) => typeof value === "number" && Number.isFinite(value);

/** Open the page with `query`, wait for the run's summary, screenshot it; returns the summary. */
const runInPage = async (name, query, timeoutMs) => {
  const context = await browser.newContext({ acceptDownloads: true });
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("blob:") || url.startsWith("data:") || new URL(url).origin === origin)
      return route.continue();
    foreign.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  const started = Date.now();
  await page.goto(`${server.url}?${query}&autostart=1`);
  await page.waitForFunction(
    () =>
      document.getElementById("summary").textContent !== "" ||
      document.getElementById("error").textContent !== "",
    null,
    { timeout: timeoutMs },
  );
  const seconds = (Date.now() - started) / 1000;
  const error = await page.textContent("#error");
  if (error !== "" || errors.length > 0) fail(`${name}: the page reported ${error || errors.join("; ")}`);
  const summary = JSON.parse(await page.textContent("#summary"));
  const backend = `${await page.textContent("#backend")} ${await page.textContent("#backend-reason")}`;
  await page.screenshot({ path: join(output, `${name}.png`), fullPage: true });
  console.log(
    `${name}: ${summary.steps} steps on ${backend} in ${seconds.toFixed(1)} s (page wall ${summary.wallSeconds.toFixed(1)} s)`,
  );
  return { summary, page, context };
};

const checkFinite = (name, summary) => {
  const steps = summary.metrics.filter((record) => record.kind === "train");
  if (steps.length !== 5) failures.push(`${name}: ${steps.length} train records, expected 5`);
  for (const record of steps)
    for (const field of STEP_FIELDS)
      if (!finite(record[field])) failures.push(`${name}: step ${record.step} ${field} = ${record[field]}`);
  for (const field of ["heldOutAccuracyBefore", "heldOutAccuracyAfter"])
    if (!finite(summary[field])) failures.push(`${name}: ${field} = ${summary[field]}`);
};

// 1. wasm, against the Node trainer on the same settings.
const settings = { steps: 5, heldOutSize: 16 };
const wasm = await runInPage(
  "wasm",
  `backend=wasm&steps=${settings.steps}&heldOutSize=${settings.heldOutSize}`,
  600_000,
);
if (wasm.summary.backend !== "wasm") failures.push(`wasm: the summary says backend ${wasm.summary.backend}`);
checkFinite("wasm", wasm.summary);

const nodeRun = join(output, "node-run");
const node = spawnSync(
  process.execPath,
  [
    join(root, "apps/trainer/dist/cli.js"),
    "--config",
    join(root, "apps/trainer/assets/demo/demo.yaml"),
    "--set",
    `train.steps=${settings.steps}`,
    "--set",
    `data.heldOutSize=${settings.heldOutSize}`,
    "--backend",
    "wasm",
    "--run-dir",
    nodeRun,
  ],
  { cwd: root, encoding: "utf8" },
);
if (node.status !== 0) fail(`apo-train failed (exit ${node.status}):\n${node.stderr}`);
const nodeRecords = readFileSync(join(nodeRun, "metrics.jsonl"), "utf8")
  .trim()
  .split("\n")
  .map((line) => JSON.parse(line))
  .filter((record) => record.kind === "train" || record.kind === "eval");
const pageRecords = wasm.summary.metrics;
if (nodeRecords.length !== pageRecords.length)
  failures.push(
    `wasm vs Node: ${pageRecords.length} records in the page, ${nodeRecords.length} in metrics.jsonl`,
  );
// Same code, same wasm kernels, same seeds: equal within float32 rounding (in practice bit for bit).
const close = (a, b) =>
  (a === null && b === null) ||
  (finite(a) && finite(b) && Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)));
let compared = 0;
let maxDifference = 0;
nodeRecords.forEach((expected, index) => {
  const actual = pageRecords[index] ?? {};
  const fields =
    expected.kind === "train"
      ? [...STEP_FIELDS, "lr", "samples"]
      : ["accuracy", "reward", "formatRate", "meanLength", "samples"];
  for (const field of fields) {
    compared += 1;
    if (finite(expected[field]) && finite(actual[field]))
      maxDifference = Math.max(maxDifference, Math.abs(expected[field] - actual[field]));
    if (
      actual.kind !== expected.kind ||
      actual.step !== expected.step ||
      !close(actual[field], expected[field])
    )
      failures.push(
        `wasm vs Node: ${expected.kind} record of step ${expected.step}: ${field} is ${actual[field]} in the page, ${expected[field]} in Node`,
      );
  }
  const objectiveKeys = Object.keys(expected.objective ?? {});
  for (const key of objectiveKeys) {
    compared += 1;
    if (!close(actual.objective?.[key], expected.objective[key]))
      failures.push(
        `wasm vs Node: step ${expected.step} objective.${key} is ${actual.objective?.[key]} in the page, ${expected.objective[key]} in Node`,
      );
  }
});
console.log(
  `wasm vs Node: ${compared} per-step and evaluation values compared, largest difference ${maxDifference}`,
);

// 2. The downloaded weights load in Node and equal the Node run's final weights.
const [download] = await Promise.all([wasm.page.waitForEvent("download"), wasm.page.click("#download")]);
const checkpoint = join(output, "downloaded-checkpoint");
mkdirSync(checkpoint, { recursive: true });
await download.saveAs(join(checkpoint, "model.safetensors"));
const demo = join(root, "apps/trainer/assets/demo-sft");
for (const file of [
  "config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "chat_template.jinja",
  "preprocessor_config.json",
])
  copyFileSync(join(demo, file), join(checkpoint, file));
const { initBackend } = await import(join(root, "packages/tensor/dist/index.js"));
const { loadQwen25VL } = await import(join(root, "packages/qwen-vl/dist/index.js"));
await initBackend("cpu");
const downloaded = await loadQwen25VL(checkpoint);
const nodeWeights = await loadQwen25VL(
  join(nodeRun, "checkpoints", `step-${String(settings.steps).padStart(8, "0")}`, "policy"),
);
const initial = await loadQwen25VL(demo);
let changed = 0;
let weightDifference = 0;
for (const [name, variable] of downloaded.parameters) {
  const values = variable.dataSync();
  const expected = nodeWeights.parameters.get(name).dataSync();
  const before = initial.parameters.get(name).dataSync();
  for (let index = 0; index < values.length; index++) {
    weightDifference = Math.max(weightDifference, Math.abs(values[index] - expected[index]));
    if (values[index] !== before[index]) changed += 1;
  }
}
if (changed === 0) failures.push("download: the weights equal the initial checkpoint's (no training?)");
if (weightDifference > 1e-6)
  failures.push(`download: the weights differ from the Node run's by up to ${weightDifference}`);
console.log(
  `download: ${downloaded.parameters.size} tensors load in Node; ${changed} values changed by training; largest difference to apo-train's checkpoint ${weightDifference}`,
);
await wasm.context.close();

// 3. webgpu, when headless Chromium offers an adapter.
const probe = await browser.newPage();
await probe.goto(server.url);
const adapter = await probe.evaluate(async () => {
  if (!("gpu" in navigator)) return "navigator.gpu is not defined";
  const found = await navigator.gpu.requestAdapter();
  return found === null ? "navigator.gpu.requestAdapter() returned null" : "";
});
await probe.close();
if (adapter !== "") {
  if (required) failures.push(`webgpu: no adapter in headless Chromium (${adapter})`);
  else console.log(`webgpu: skipped (${adapter})`);
} else {
  // SwiftShader runs WebGPU on the CPU and compiles every shader: a smaller run keeps it short.
  const webgpu = await runInPage(
    "webgpu",
    "backend=webgpu&steps=5&heldOutSize=8&groupSize=4&promptsPerStep=2",
    600_000,
  );
  if (webgpu.summary.backend !== "webgpu")
    failures.push(`webgpu: the summary says backend ${webgpu.summary.backend}`);
  checkFinite("webgpu", webgpu.summary);
  await webgpu.context.close();
}

await browser.close();
await server.close();
if (foreign.length > 0) failures.push(`requests outside ${origin}: ${[...new Set(foreign)].join(", ")}`);
if (failures.length > 0) fail(`${failures.length} problem(s):\n  ${failures.join("\n  ")}`);
console.log(`playground browser test: ok (screenshots in ${output})`);
