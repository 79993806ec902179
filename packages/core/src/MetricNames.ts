/**
 * The metric names of the objective contract, one spelling each, used by objectives (their
 * `metricNames` and outputs), the trainer (its headline columns) and the report:
 * - `loss`: the scalar that is minimised;
 * - `policyLoss`: the aggregated policy-gradient term;
 * - `klLoss`: the KL term added to the loss (0 when the KL is in the reward or absent);
 * - `kl`: mean over sequences of the per-sequence mean of the objective's own KL estimator
 *   (0 without `logpRef`);
 * - `beta`: the KL coefficient at this step;
 * - `clipFraction`: fraction of response tokens (or sequences, for sequence-level losses) whose
 *   clipped branch was active;
 * - `entropy`: mean per-token entropy of the policy over response tokens;
 * - `entropyLoss`: the entropy bonus term added to the loss (`−coefficient · entropy`);
 * - `advantagePositiveMean` / `advantageNegativeMean`: mean final advantage over samples with a
 *   positive / negative advantage (0 when there are none);
 * - `dadsWeightPositiveMean`: mean DADS KL weight over samples with a positive advantage (1 without
 *   DADS or without such samples);
 * - `stcrScalePenalisedMean`: mean STCR scale over the samples STCR penalises (1 without STCR or
 *   without such samples);
 * - `zeroSpreadGroupFraction`: fraction of groups whose rewards are all equal;
 * - `rewardMean`: mean reward (after reward shaping).
 *
 * An objective may report further names of its own; these are the ones others rely on.
 *
 * @since 0.2.0
 * @category metrics
 */
export const objectiveMetricNames = [
  "loss",
  "policyLoss",
  "klLoss",
  "kl",
  "beta",
  "clipFraction",
  "entropy",
  "entropyLoss",
  "advantagePositiveMean",
  "advantageNegativeMean",
  "dadsWeightPositiveMean",
  "stcrScalePenalisedMean",
  "zeroSpreadGroupFraction",
  "rewardMean",
] as const;

/**
 * @since 0.2.0
 * @category metrics
 */
export type ObjectiveMetricName = (typeof objectiveMetricNames)[number];
