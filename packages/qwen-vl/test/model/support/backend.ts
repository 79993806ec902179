import { initBackend, testBackends, toleranceScale } from "@apo-rl/tensor";

const usable = await testBackends();

/**
 * Backends the numeric tests run on: every usable one here (wasm and cpu at least) but webgpu —
 * these suites still read results synchronously (`dataSync`), which a GPU backend cannot do.
 */
export const testBackendNames: ReadonlyArray<string> = usable.filter((name) => name !== "webgpu");

/** Every usable backend, webgpu included (when an adapter exists): for suites that read asynchronously. */
export const asyncTestBackendNames: ReadonlyArray<string> = usable;

/** A wasm tolerance scaled for `backend` (see `toleranceScale` in @apo-rl/tensor). */
export const tolerance = (backend: string, wasm: number): number => wasm * toleranceScale(backend);

/** Activate a backend; false when it cannot start here. */
export const useBackend = async (name: string): Promise<boolean> => {
  try {
    await initBackend(name as Parameters<typeof initBackend>[0] & string);
    return true;
  } catch {
    return false;
  }
};
