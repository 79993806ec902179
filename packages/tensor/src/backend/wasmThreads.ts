import {
  type StartedWasmThreads,
  setConfiguredWasmThreads,
  startedWasmThreads,
} from "../internal/backend/wasmThreads.js";

export type { StartedWasmThreads, WasmThreadPlan } from "../internal/backend/wasmThreads.js";

/**
 * Sets how many threads the wasm backend uses in this process: a whole number from 1 to 8, or
 * `"auto"` (`os.availableParallelism()`, at most 8). It overrides `APO_WASM_THREADS` (same values;
 * unset means 1) and must be called before the wasm backend is first initialised (by
 * {@link initBackend} or the {@link TensorBackend} layer): tfjs starts its thread pool once per
 * process.
 *
 * Threads pay for large products on otherwise idle cores (a 0.5B model's layers); XNNPACK's pool
 * busy-waits between operations, so on cores shared with other processes, or for a tiny model's
 * many small operations, they cost more than they give — hence one thread by default. Several
 * processes on one machine (rollout servers beside a trainer) should split the cores between them.
 *
 * @example
 * ```ts
 * import { configureWasmThreads, initBackend, wasmThreads } from "@apo-rl/tensor"
 * configureWasmThreads(2)
 * await initBackend("wasm")
 * console.log(wasmThreads()?.threads) // 2
 * ```
 *
 * @throws {InvalidWasmThreadsError} the count is not `"auto"` or 1–8.
 * @throws {Error} the wasm backend already started with another count.
 * @since 0.2.0
 * @category backend
 */
export const configureWasmThreads = (count: number | "auto"): void => {
  const running = startedWasmThreads();
  if (running !== undefined) {
    if (count === running.plan.threads && count === running.threads) return;
    throw new Error(
      `the wasm backend already runs with ${running.threads} thread(s); configureWasmThreads(${count}) must come before it starts`,
    );
  }
  setConfiguredWasmThreads(count);
};

/**
 * The wasm backend's threads in this process — the size of the XNNPACK pool it actually runs, the
 * plan it came from and, when it fell back to one thread, why — or `undefined` before the wasm
 * backend started.
 *
 * @since 0.2.0
 * @category backend
 */
export const wasmThreads = (): StartedWasmThreads | undefined => startedWasmThreads();
