/**
 * APO (DADS + STCR) and the GRPO family of policy objectives on TensorFlow.js: building blocks in
 * float64 JavaScript, objectives implementing `ObjectiveV2`, KL schedules and an objective registry.
 *
 * @since 0.1.0
 */

export type { AdvantageEstimate, AdvantageEstimator } from "./AdvantageEstimator.js";
export type { ComponentEntry, ComponentRegistry } from "./componentRegistry.js";
export { makeComponentRegistry } from "./componentRegistry.js";
export { GspoOptions, gspo, gspoMetricNames } from "./contrib/gspo.js";
export type { DadsForm } from "./dadsWeights.js";
export { dadsWeight, dadsWeights } from "./dadsWeights.js";
export type { ObjectiveParts } from "./defineObjective.js";
export { checkStepSamples, defineObjective } from "./defineObjective.js";
export { difficulty } from "./difficulty.js";
export { ObjectiveRegistrationError, UnknownComponentError, UnknownObjectiveError } from "./errors.js";
export { GrpoEstimatorOptions, grpoEstimator } from "./estimators/grpo.js";
export { GrpoPassKOptions, grpoPassK } from "./estimators/grpoPassK.js";
export {
  ReinforcePlusPlusOptions,
  reinforcePlusPlus,
  reinforcePlusPlusBaseline,
} from "./estimators/reinforcePlusPlus.js";
export { RlooOptions, rloo } from "./estimators/rloo.js";
export type { RewardedGroup } from "./filterUniformGroups.js";
export { filterUniformGroups, hasUniformRewards } from "./filterUniformGroups.js";
export type { AdvantageScale, GroupAdvantageOptions } from "./groupAdvantages.js";
export { groupAdvantages } from "./groupAdvantages.js";
export { groupSlice, mean, sampleStd, zeroSpreadGroupFraction } from "./groupStatistics.js";
export { checkMicroBatch, checkSampleBatch } from "./inputChecks.js";
export type { KlSchedule } from "./klSchedule.js";
export { KlScheduleOptions, klSchedule } from "./klSchedule.js";
export { CispoOptions, cispo } from "./losses/cispo.js";
export { DualClipPpoOptions, dualClipPpo } from "./losses/dualClipPpo.js";
export { GmpoOptions, gmpo } from "./losses/gmpo.js";
export { PpoClipOptions, ppoClip } from "./losses/ppoClip.js";
export { SapoOptions, sapo } from "./losses/sapo.js";
export { binaryMask, maskedSequenceMean, maskedValues, stopGradient } from "./masking.js";
export {
  klShareOfLoss,
  type MechanismSamples,
  mechanismTelemetry,
  mechanismTelemetryNames,
} from "./mechanismTelemetry.js";
export type { ObjectiveMetricName } from "./metricNames.js";
export { objectiveMetricNames } from "./metricNames.js";
export type { ObjectivesShape } from "./Objectives.js";
export { Objectives } from "./Objectives.js";
export { ApoOptions, apo } from "./objectives/apo.js";
export { DapoOptions, dapo } from "./objectives/dapo.js";
export { DrGrpoOptions, drGrpo } from "./objectives/drGrpo.js";
export { GrpoOptions, grpo } from "./objectives/grpo.js";
export { GrpoDOptions, grpoD } from "./objectives/grpoD.js";
export type { OverlongPenaltyOptions } from "./overlongPenalty.js";
export { overlongPenalty } from "./overlongPenalty.js";
export type { PolicyLoss, PolicyLossInput, PolicyLossOutput } from "./PolicyLoss.js";
export {
  Aggregation,
  apoFields,
  KlEstimator,
  KlPlacement,
  OverlongOptions,
  PolicyGradientOptions,
  policyGradientFields,
} from "./policyGradientOptions.js";
export {
  advantageEstimatorRegistry,
  createObjective,
  createObjectiveEffect,
  objectiveRegistry,
  policyLossRegistry,
  registerAdvantageEstimator,
  registerObjective,
  registerPolicyLoss,
} from "./registries.js";
export type { ObjectiveEntry, ObjectiveFactory, ObjectiveRegistry } from "./registry.js";
export { makeObjectiveRegistry } from "./registry.js";
export type { RolloutCorrection } from "./rolloutCorrection.js";
export {
  RolloutCorrectionOptions,
  rolloutCorrectionMetricNames,
  rolloutCorrectionWeights,
} from "./rolloutCorrection.js";
export { stcrPenalised, stcrScale, stcrScales } from "./stcrScales.js";
export type { StepAggregateOptions } from "./stepAggregate.js";
export { stepAggregate } from "./stepAggregate.js";
export { selectSamples, stepTotals } from "./stepTotals.js";

/**
 * @since 0.1.0
 */
export const packageName = "@apo-rl/objectives";
