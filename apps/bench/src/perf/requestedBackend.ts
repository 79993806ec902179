import { initBackend } from "@apo-rl/tensor";

/**
 * The backend a perf suite runs on when the user named one (`apo-bench perf --backend <name>`, or
 * `APO_BACKEND`): initialised and returned with the reason. `undefined` when none was named (then
 * each suite picks wasm or cpu by the model's size).
 */
export const requestedBackend = async (
  environment: Readonly<Record<string, string | undefined>> = process.env,
): Promise<{ readonly backend: string; readonly reason: string } | undefined> => {
  const asked = environment.APO_BACKEND?.trim();
  if (asked === undefined || asked === "" || asked === "auto") return undefined;
  const report = await initBackend();
  return { backend: report.chosen, reason: `requested (APO_BACKEND=${asked})` };
};
