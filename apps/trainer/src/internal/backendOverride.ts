import { isBackendName } from "@apo-rl/tensor";

/**
 * The config overrides with `APO_BACKEND` applied: a backend named in the environment replaces the
 * config file's `backend` (the demo's `wasm`, say), and `--backend` / `--set backend=…` on the
 * command line replace both. `APO_BACKEND` holding a list (`webgpu,wasm`) is left to `backend: auto`,
 * which reads it as the order to try.
 */
export const withEnvironmentBackend = (
  overrides: ReadonlyArray<string>,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): ReadonlyArray<string> => {
  const named = environment.APO_BACKEND?.trim();
  if (named === undefined || !isBackendName(named)) return overrides;
  if (overrides.some((override) => override.trim().startsWith("backend="))) return overrides;
  return [`backend=${named}`, ...overrides];
};
