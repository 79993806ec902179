import { mechanismTelemetryNames } from "./mechanismTelemetry.js";

/**
 * The metrics every objective of this package reports, in order:
 * - `loss`: the scalar that is minimised;
 * - `policyLoss`: the aggregated clipped-surrogate term;
 * - `klLoss`: the KL term added to the loss (`β · mean(w · kl)`; 0 when KL is in the reward);
 * - `kl`: mean over sequences of the per-sequence masked mean of the KL estimator (0 without `logpRef`);
 * - `beta`: the KL coefficient at this step;
 * - `clipFraction`: fraction of response tokens whose clipped branch was active;
 * - `advantagePositiveMean` / `advantageNegativeMean`: mean final advantage over samples with a
 *   positive / negative advantage (0 when there are none);
 * - `dadsWeightPositiveMean`: mean DADS KL weight over samples with a positive advantage (1 without
 *   DADS or without such samples);
 * - `stcrScalePenalisedMean`: mean STCR scale over the samples STCR penalises (1 without STCR or
 *   without such samples);
 * - `zeroSpreadGroupFraction`: fraction of groups whose rewards are all equal;
 * - `rewardMean`: mean reward (after overlong shaping);
 * - then the mechanism telemetry of `mechanismTelemetryNames` (`stcrPenalisedFraction`, …,
 *   `klShareOfLoss`; the DADS weights and the KL share only when defined).
 *
 * @since 0.1.0
 * @category metrics
 */
export const objectiveMetricNames = [
  "loss",
  "policyLoss",
  "klLoss",
  "kl",
  "beta",
  "clipFraction",
  "advantagePositiveMean",
  "advantageNegativeMean",
  "dadsWeightPositiveMean",
  "stcrScalePenalisedMean",
  "zeroSpreadGroupFraction",
  "rewardMean",
  ...mechanismTelemetryNames,
] as const;

/**
 * @since 0.1.0
 * @category metrics
 */
export type ObjectiveMetricName = (typeof objectiveMetricNames)[number];
