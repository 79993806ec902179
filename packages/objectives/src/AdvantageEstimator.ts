import type { SampleBatch } from "@apo-rl/core";

/**
 * What an advantage estimator returns: one advantage per sample (float64) and optional metrics.
 *
 * @since 0.2.0
 * @category components
 */
export interface AdvantageEstimate {
  readonly advantage: ReadonlyArray<number>;
  readonly metrics?: Readonly<Record<string, number>>;
}

/**
 * An advantage estimator maps a step's samples (rewards after shaping, groups, lengths, verdicts)
 * to per-sample advantages. Registered by name in `advantageEstimatorRegistry`; an objective
 * composes one with shapers (overlong, STCR), a per-sample KL weight (DADS) and a policy loss.
 *
 * @since 0.2.0
 * @category components
 */
export type AdvantageEstimator = (batch: SampleBatch) => AdvantageEstimate;
