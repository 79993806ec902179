#!/usr/bin/env bash
# The GPU check: run apo-rl on a machine's GPU through WebGPU (Dawn) and write one JSON file.
#
#   scripts/gpu-check.sh [output.json]        (default: gpu-check.json in the repository root)
#
# 1. Installs what the machine lacks, from the npm and Debian registries only: the Vulkan loader
#    (libvulkan1; the GPU's own Vulkan driver — NVIDIA's ships with its kernel driver, Mesa's RADV /
#    ANV with mesa-vulkan-drivers — must be there), pnpm, the workspace's packages; then builds.
# 2. Parity suites on webgpu: the ops and gradients of @apo-rl/tensor, the objectives' goldens, the
#    Qwen2.5-VL fixture parity and generation, the no-synchronous-read training step.
# 3. Perf: `apo-bench perf tensor|model` and `perf train-step` for the demo, the Qwen2.5-0.5B-sized
#    and the Qwen2.5-VL-3B-sized model (random weights), all with --backend webgpu.
# Every step has a time budget (8 minutes in all); a step that fails or runs out is recorded in the
# JSON with its exit status and the tail of its output, and the check goes on.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${1:-$ROOT/gpu-check.json}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/apo-gpu-check.XXXXXX")
DEADLINE=$(( $(date +%s) + 470 ))
export APO_BACKEND=webgpu APO_REQUIRE_WEBGPU=1
if [[ -z "${XDG_RUNTIME_DIR:-}" ]]; then
  export XDG_RUNTIME_DIR="$WORK/xdg"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
fi

log() { echo "gpu-check: $*" >&2; }

# --- 1. what the machine lacks -------------------------------------------------------------------
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' || missing+=(libvulkan1)
  command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
  if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 && \
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
  fi
fi
if ! command -v node >/dev/null 2>&1 || (( $(node -p 'process.versions.node.split(".")[0]') < 20 )); then
  log "Node.js >= 20 is required (found $(node --version 2>/dev/null || echo none))"
  exit 1
fi
ls /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>/dev/null | grep -q . || \
  log "warning: no Vulkan driver manifest (icd.d) found; Dawn will find no GPU"
command -v pnpm >/dev/null 2>&1 || npm i -g pnpm@10 >&2
pnpm install --frozen-lockfile >&2 && pnpm exec turbo run build --output-logs=errors-only >&2 || {
  log "install or build failed"; exit 1; }

# --- 2 and 3: the steps, each with a budget ------------------------------------------------------
STEPS_JSON="$WORK/steps.jsonl"
: > "$STEPS_JSON"
step() { # step <name> <seconds> <command...>
  local name=$1 budget=$2; shift 2
  local left=$(( DEADLINE - $(date +%s) ))
  (( budget > left )) && budget=$left
  if (( budget <= 5 )); then
    node -e 'console.log(JSON.stringify({name:process.argv[1],status:"skipped",reason:"out of time"}))' "$name" >> "$STEPS_JSON"
    return
  fi
  log "$name (≤ ${budget} s)"
  local started=$(date +%s)
  timeout "$budget" "$@" > "$WORK/$name.log" 2>&1
  local status=$?
  node -e '
    const [name, status, seconds, logFile] = process.argv.slice(1);
    const tail = require("fs").readFileSync(logFile, "utf8").split("\n").filter((l) => !/^Warning: max/.test(l)).slice(-40).join("\n");
    console.log(JSON.stringify({ name, status: Number(status) === 0 ? "ok" : Number(status) === 124 ? "timed out" : "failed", exitCode: Number(status), seconds: Number(seconds), tail }));
  ' "$name" "$status" "$(( $(date +%s) - started ))" "$WORK/$name.log" >> "$STEPS_JSON"
}

step doctor 30 node packages/tensor/dist/doctor-cli.js
step parity-suites 170 pnpm exec vitest run --project tensor --project objectives --project qwen-vl \
  --project trainer -t "webgpu" --reporter=json --outputFile.json="$WORK/parity.json"
step perf-tensor 60 node apps/bench/dist/cli.js perf tensor --backend webgpu --quick --out "$WORK/bench" --name tensor
step perf-model 60 node apps/bench/dist/cli.js perf model --backend webgpu --quick --out "$WORK/bench" --name model
step perf-train-step 150 node apps/bench/dist/cli.js perf train-step --backend webgpu --quick \
  --models demo,qwen2.5-0.5b,qwen2.5-vl-3b --out "$WORK/bench" --name train-step

# --- one JSON --------------------------------------------------------------------------------------
node - "$WORK" "$OUT" <<'JS'
const { existsSync, readFileSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");
const [work, out] = process.argv.slice(2);
const read = (path) => (existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : null);
const steps = readFileSync(join(work, "steps.jsonl"), "utf8").trim().split("\n").filter(Boolean).map((line) => JSON.parse(line));
const doctor = steps.find((s) => s.name === "doctor")?.tail ?? "";
const adapter = doctor.split("\n").find((line) => /^\s*webgpu\s/.test(line))?.replace(/^\s*webgpu\s+(chosen|usable|not usable|not tried)\s+/, "").trim() ?? null;
const parity = read(join(work, "parity.json"));
const perSuite = parity?.testResults.map((file) => ({
  file: file.name.replace(/^.*?\/(packages|apps)\//, "$1/"),
  passed: file.assertionResults.filter((t) => t.status === "passed").length,
  failed: file.assertionResults.filter((t) => t.status === "failed").map((t) => `${t.fullName}: ${(t.failureMessages[0] ?? "").split("\n")[0]}`),
}));
const result = {
  format: "apo-rl/gpu-check",
  version: 1,
  date: new Date().toISOString(),
  node: process.version,
  adapter,
  software: adapter !== null && /llvmpipe|lavapipe|swiftshader/i.test(adapter),
  steps,
  parity: parity === null ? null : { passed: parity.numPassedTests, failed: parity.numFailedTests, suites: perSuite },
  perf: Object.fromEntries(["tensor", "model", "train-step"].map((name) => [name, read(join(work, "bench", `${name}.json`))?.results ?? null])),
};
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.error(`gpu-check: wrote ${out} (adapter: ${adapter ?? "none"}; parity ${result.parity?.passed ?? 0} passed, ${result.parity?.failed ?? "?"} failed)`);
JS
