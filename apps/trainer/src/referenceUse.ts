import type { TensorObjective } from "./TrainablePolicy.js";

/**
 * What the loop adds to `train.seed` to seed the held-out evaluations.
 *
 * @since 0.2.0
 * @category training
 */
export const EVALUATION_SEED_OFFSET = 1_000_003;

/**
 * Whether an objective asks for reference log-probs at any step of a run of `totalSteps` steps
 * (its own `usesReference`): when it never does (β = 0, e.g. `dapo`), the trainer builds no frozen
 * reference copy and runs no reference pass.
 *
 * @since 0.2.0
 * @category training
 */
export const usesReferenceAtAnyStep = (objective: TensorObjective, totalSteps: number): boolean => {
  for (let step = 0; step < Math.max(totalSteps, 1); step++)
    if (objective.usesReference({ step, totalSteps })) return true;
  return false;
};
