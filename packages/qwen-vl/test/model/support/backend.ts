import { initBackend, testBackends } from "@apo-rl/tensor";

/** Backends the numeric tests run on: every usable one here (wasm and cpu at least). */
export const testBackendNames: ReadonlyArray<string> = await testBackends();

/** Activate a backend; false when it cannot start here. */
export const useBackend = async (name: string): Promise<boolean> => {
  try {
    await initBackend(name as Parameters<typeof initBackend>[0] & string);
    return true;
  } catch {
    return false;
  }
};
