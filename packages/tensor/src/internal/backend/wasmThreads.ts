import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { InvalidWasmThreadsError } from "../../backend/errors.js";

/** tfjs-backend-wasm pre-starts 8 pthread workers and caps its XNNPACK pool at 8 threads. */
export const MAX_WASM_THREADS = 8;

/** How many threads the wasm backend should use, and where that number came from. */
export interface WasmThreadPlan {
  readonly threads: number;
  readonly source: "configureWasmThreads" | "APO_WASM_THREADS" | "default";
}

let configured: number | "auto" | undefined;

/** The started pool: its size, the plan it came from and, after a fallback to one thread, why. */
export interface StartedWasmThreads {
  readonly threads: number;
  readonly plan: WasmThreadPlan;
  readonly note?: string;
}

let started: StartedWasmThreads | undefined;

/** The started pool, or `undefined` before the wasm backend started. */
export const startedWasmThreads = (): StartedWasmThreads | undefined => started;

/** Records the started pool (once, by the wasm candidate). */
export const recordWasmThreads = (value: StartedWasmThreads): void => {
  started = value;
};

const parseCount = (value: string | number, source: string): number | "auto" => {
  if (value === "auto") return "auto";
  const count = typeof value === "number" ? value : Number(value.trim());
  if (!Number.isInteger(count) || count < 1 || count > MAX_WASM_THREADS)
    throw new InvalidWasmThreadsError({
      value: String(value),
      source,
      reason: `expected "auto" or a whole number from 1 to ${MAX_WASM_THREADS}`,
    });
  return count;
};

/** Records the count `configureWasmThreads` asked for (validated). */
export const setConfiguredWasmThreads = (count: number | "auto"): void => {
  configured = parseCount(count, "configureWasmThreads");
};

/**
 * The configured count: `configureWasmThreads`, else `APO_WASM_THREADS`, else 1. `"auto"` is the
 * machine's cores (`os.availableParallelism()`, at most 8). One thread is the default because
 * XNNPACK's pool busy-waits between operations: on cores shared with other processes the spinning
 * threads slow every step down (docs/tensor-backends.md, "Threads under Node").
 */
export const planWasmThreads = (
  environment: Readonly<Record<string, string | undefined>> = process.env,
): WasmThreadPlan => {
  const automatic = Math.max(1, Math.min(MAX_WASM_THREADS, os.availableParallelism()));
  if (configured !== undefined)
    return { threads: configured === "auto" ? automatic : configured, source: "configureWasmThreads" };
  const variable = environment.APO_WASM_THREADS;
  if (variable !== undefined && variable.trim() !== "") {
    const count = parseCount(variable.trim(), "APO_WASM_THREADS");
    return { threads: count === "auto" ? automatic : count, source: "APO_WASM_THREADS" };
  }
  return { threads: 1, source: "default" };
};

/** What tfjs-backend-wasm's threaded module exposes that apo-rl reads after it started. */
interface ThreadedModule {
  readonly PThread?: {
    readonly runningWorkers?: ReadonlyArray<{ unref?: () => void }>;
    readonly unusedWorkers?: ReadonlyArray<{ unref?: () => void }>;
  };
}

/**
 * The pthread worker script as a file. tfjs hands Emscripten a `blob:` URL for it, which Node's
 * `worker_threads` refuses; the script itself supports Node. The file is content-addressed, written
 * atomically, and its `load` message is pointed at the package's unbundled threaded script (the
 * bundled factory text tfjs sends refers to bundler-scoped names).
 */
const workerFile = (workerText: string, mainScript: string): string => {
  const prefix =
    'const apoWorkerThreads = require("worker_threads");\n' +
    "const apoListen = apoWorkerThreads.parentPort.on.bind(apoWorkerThreads.parentPort);\n" +
    'apoWorkerThreads.parentPort.on = (event, listener) => apoListen(event, event === "message"\n' +
    `  ? (data) => { if (data && data.cmd === "load") data.urlOrBlob = ${JSON.stringify(mainScript)}; listener(data); }\n` +
    "  : listener);\n";
  const text = prefix + workerText;
  const digest = createHash("sha256").update(text).digest("hex").slice(0, 16);
  const directory = join(os.tmpdir(), "apo-rl-wasm");
  const file = join(directory, `tfjs-backend-wasm-threaded-simd.worker.${digest}.js`);
  if (!existsSync(file)) {
    mkdirSync(directory, { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, text);
    renameSync(partial, file);
  }
  return file;
};

/**
 * Initialises tfjs-backend-wasm's threaded SIMD build under Node with `threads` XNNPACK threads and
 * resolves to the pool's actual size; rejects when the threaded build does not start. Leaves the
 * active backend as it was (the wasm backend stays initialised for a later `setBackend("wasm")`).
 *
 * What it works around, all inside tfjs-backend-wasm 4.22's Node path (docs/tensor-backends.md):
 * - tfjs reports no thread support under Node: the flag is set by hand;
 * - the pthread worker comes as a `blob:` URL: `Blob`/`URL.createObjectURL` are wrapped while the
 *   module starts, so the worker script becomes a file;
 * - the XNNPACK pool is capped at `emscripten_num_logical_cores() / 2`, read as `os.cpus().length`
 *   under Node (tfjs halves it for hyper-threading): `os.cpus()` reports `2 × threads` entries while
 *   the module starts;
 * - the pool's running workers keep the process alive: they are unreferenced.
 */
export const startThreadedWasm = async (
  module: Record<string, unknown>,
  packageDirectory: string,
  threads: number,
): Promise<number> => {
  const setThreadsCount = (module.setThreadsCount ??
    (module.default as Record<string, unknown> | undefined)?.setThreadsCount) as
    | ((count: number) => void)
    | undefined;
  const getThreadsCount = (module.getThreadsCount ??
    (module.default as Record<string, unknown> | undefined)?.getThreadsCount) as (() => number) | undefined;
  if (typeof setThreadsCount !== "function" || typeof getThreadsCount !== "function")
    throw new Error("this @tensorflow/tfjs-backend-wasm has no setThreadsCount/getThreadsCount");
  const mainScript = join(packageDirectory, "wasm-out", "tfjs-backend-wasm-threaded-simd.js");
  if (!existsSync(mainScript)) throw new Error(`${mainScript} is missing`);

  const OriginalBlob = globalThis.Blob;
  const originalCreateObjectURL = URL.createObjectURL;
  const originalCpus = os.cpus;
  const texts = new WeakMap<Blob, string>();
  const previous = (tf.engine() as unknown as { backendName?: string | null }).backendName ?? undefined;
  type BlobArguments = ConstructorParameters<typeof Blob>;
  globalThis.Blob = class extends OriginalBlob {
    constructor(parts?: BlobArguments[0], options?: BlobArguments[1]) {
      super(parts ?? [], options);
      if (parts?.every((part) => typeof part === "string")) texts.set(this, parts.join(""));
    }
  };
  URL.createObjectURL = (blob: Blob): string => {
    const text = texts.get(blob);
    return text === undefined ? originalCreateObjectURL(blob) : workerFile(text, mainScript);
  };
  os.cpus = () => {
    const cpus = originalCpus();
    const wanted = Math.max(cpus.length, 2 * threads);
    return Array.from({ length: wanted }, (_, index) => cpus[index % cpus.length]!);
  };
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  setThreadsCount(threads);
  try {
    const ok = await tf.setBackend("wasm");
    if (!ok) throw new Error("tfjs failed to initialise the threaded wasm build");
  } catch (error) {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    setThreadsCount(1);
    throw error;
  } finally {
    globalThis.Blob = OriginalBlob;
    URL.createObjectURL = originalCreateObjectURL;
    os.cpus = originalCpus;
  }
  const threaded = (tf.backend() as unknown as { wasm?: ThreadedModule }).wasm;
  for (const worker of threaded?.PThread?.runningWorkers ?? []) worker.unref?.();
  for (const worker of threaded?.PThread?.unusedWorkers ?? []) worker.unref?.();
  if (previous !== undefined && previous !== "wasm") await tf.setBackend(previous);
  return getThreadsCount();
};
