/**
 * Learning-rate schedule settings (the `optimizer` section's `lr`, `warmupSteps`, `schedule`, `minLrRatio`).
 *
 * @since 0.1.0
 * @category optimizer
 */
export interface LearningRateSchedule {
  readonly lr: number;
  readonly warmupSteps: number;
  readonly schedule: "cosine" | "constant";
  readonly minLrRatio: number;
}

/**
 * The learning rate of optimizer step `step` (0-based) out of `totalSteps`:
 * linear warm-up `lr · (step + 1) / warmupSteps` for `step < warmupSteps`, then either constant `lr`
 * or a cosine from `lr` down to `lr · minLrRatio`:
 * `lrMin + (lr − lrMin) · ½ (1 + cos(π · (step − warmupSteps) / max(1, totalSteps − warmupSteps − 1)))`,
 * so the last step uses exactly `lrMin`.
 *
 * @since 0.1.0
 * @category optimizer
 */
export const learningRateAt = (schedule: LearningRateSchedule, step: number, totalSteps: number): number => {
  if (step < schedule.warmupSteps) return (schedule.lr * (step + 1)) / schedule.warmupSteps;
  if (schedule.schedule === "constant") return schedule.lr;
  const minimum = schedule.lr * schedule.minLrRatio;
  const span = Math.max(1, totalSteps - schedule.warmupSteps - 1);
  const progress = Math.min(1, (step - schedule.warmupSteps) / span);
  return minimum + (schedule.lr - minimum) * 0.5 * (1 + Math.cos(Math.PI * progress));
};
