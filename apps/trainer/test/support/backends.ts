import { testBackends as availableBackends, type BackendName, initBackend } from "@apo-rl/tensor";

/**
 * The tfjs backends these tests run on: every one usable here (wasm and cpu in CI) but webgpu —
 * these tests read results synchronously; the webgpu training step has its own test
 * (`webgpuStep.test.ts`).
 */
export const testBackends: ReadonlyArray<BackendName> = (await availableBackends()).filter(
  (name) => name !== "webgpu",
);

/** Switch to `name` (gradients and missing kernels registered by @apo-rl/tensor). */
export const useBackend = async (name: BackendName): Promise<void> => {
  await initBackend(name);
};
