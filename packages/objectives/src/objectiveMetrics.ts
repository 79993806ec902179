import type { ObjectiveOutput } from "@apo-rl/core";

/**
 * All metrics of an objective's output: `metrics` with the device-computed ones (read
 * asynchronously) merged over them.
 *
 * @since 0.1.0
 * @category objectives
 */
export const objectiveMetrics = async <Tensor>(
  output: ObjectiveOutput<Tensor>,
): Promise<Readonly<Record<string, number>>> => ({
  ...output.metrics,
  ...(output.deviceMetrics === undefined ? {} : await output.deviceMetrics),
});
