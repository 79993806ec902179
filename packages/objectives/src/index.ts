/**
 * APO (DADS + STCR) and the GRPO family of policy objectives on TensorFlow.js: building blocks in
 * float64 JavaScript, objectives implementing `ObjectiveV1`, KL schedules and an objective registry.
 *
 * @since 0.1.0
 */
export { GspoOptions, gspo, gspoMetricNames } from "./contrib/gspo.js";
export type { DadsForm } from "./dadsWeights.js";
export { dadsWeight, dadsWeights } from "./dadsWeights.js";
export { difficulty } from "./difficulty.js";
export { ObjectiveRegistrationError, UnknownObjectiveError } from "./errors.js";
export type { RewardedGroup } from "./filterUniformGroups.js";
export { filterUniformGroups, hasUniformRewards } from "./filterUniformGroups.js";
export type { AdvantageScale, GroupAdvantageOptions } from "./groupAdvantages.js";
export { groupAdvantages } from "./groupAdvantages.js";
export type { KlSchedule } from "./klSchedule.js";
export { KlScheduleOptions, klSchedule } from "./klSchedule.js";
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
export {
  createObjective,
  createObjectiveEffect,
  objectiveRegistry,
  registerObjective,
} from "./objectiveRegistry.js";
export { ApoOptions, apo } from "./objectives/apo.js";
export { DapoOptions, dapo } from "./objectives/dapo.js";
export { DrGrpoOptions, drGrpo } from "./objectives/drGrpo.js";
export { GrpoOptions, grpo } from "./objectives/grpo.js";
export { GrpoDOptions, grpoD } from "./objectives/grpoD.js";
export type { OverlongPenaltyOptions } from "./overlongPenalty.js";
export { overlongPenalty } from "./overlongPenalty.js";
export {
  Aggregation,
  apoFields,
  KlEstimator,
  KlPlacement,
  OverlongOptions,
  PolicyGradientOptions,
  policyGradientFields,
} from "./policyGradientOptions.js";
export type { ObjectiveEntry, ObjectiveFactory, ObjectiveRegistry } from "./registry.js";
export { makeObjectiveRegistry } from "./registry.js";
export { stcrPenalised, stcrScale, stcrScales } from "./stcrScales.js";

/**
 * @since 0.1.0
 */
export const packageName = "@apo-rl/objectives";
