import type { GenerationOptions } from "@apo-rl/core";
import type { TrainerConfig } from "../TrainerConfig.js";

/**
 * The sampling options of a training step's rollouts under `rollout` with the step's `seed` (the
 * options the training step passes to its rollout source).
 *
 * @since 0.1.0
 * @category rollout
 */
export const rolloutGenerationOptions = (
  rollout: TrainerConfig["rollout"],
  seed: number,
): GenerationOptions => ({
  n: rollout.groupSize,
  temperature: rollout.temperature,
  topP: rollout.topP,
  ...(rollout.topK > 0 ? { topK: rollout.topK } : {}),
  maxNewTokens: rollout.maxNewTokens,
  ...(rollout.stopStrings.length > 0 ? { stopStrings: rollout.stopStrings } : {}),
  seed,
  // The loss pass follows with the same weights: an in-process policy may keep what sampling
  // computed (`rollout.retainStates`); rollout servers ignore it.
  ...(rollout.retainStates === false ? {} : { retainForTraining: true }),
});
