/**
 * The portable part of @apo-rl/trainer, for hosts without Node (the browser playground): the one
 * RL step (`runTrainingStep`, the same code `apo-train` runs), the in-memory AdamW, evaluation,
 * scoring, metrics, learning-rate schedules, the config schema, SVG line charts, the trainer's seeded
 * step-seed generator (`TrainerRandom`) and the demo's reward.
 * It imports no Node built-in (`scripts/check-architecture.mjs` enforces it); the loop with run
 * directories, checkpoints, reports and signals stays in the main entry point.
 *
 * @since 0.2.0
 */
export { type BatchVerifier, inProcessBatchVerifier, type VerificationItem } from "./BatchVerifier.js";
export { demoVerifier } from "./demo/demoVerifier.js";
export { type EvaluationOptions, evaluate } from "./evaluation.js";
export { clipByGlobalNorm, globalGradientNorm } from "./gradientClipping.js";
export { type AdamWMoments, type AdamWOptions, type AdamWState, InMemoryAdamW } from "./InMemoryAdamW.js";
export { SeededRandom as TrainerRandom } from "./internal/random.js";
export { type LearningRateSchedule, learningRateAt } from "./learningRate.js";
export { type ChartSeries, type LineChartOptions, lineChartSvg } from "./lineChart.js";
export { type MechanismMetrics, mechanismMetricNames, mechanismMetrics } from "./mechanismMetrics.js";
export {
  type EvaluationRecord,
  headlineMetric,
  type MetricsRecord,
  type RolloutStatistics,
  rolloutStatistics,
  type TrainStepRecord,
} from "./metrics.js";
export { EVALUATION_SEED_OFFSET, usesReferenceAtAnyStep } from "./referenceUse.js";
export {
  groupRollouts,
  rewardBreakdown,
  type ScoredGroup,
  scoreGroups,
  uniqueRequests,
} from "./scoring.js";
export type { TensorObjective, TrainablePolicy } from "./TrainablePolicy.js";
export {
  DataConfig,
  LoraConfig,
  ModelConfig,
  ObjectiveConfig,
  OptimizerConfig,
  OutputConfig,
  RewardConfig,
  RolloutConfig,
  SyntheticDataConfig,
  TrainConfig,
  TrainerConfig,
  type TrainerConfigInput,
} from "./TrainerConfig.js";
export {
  type PromptCursor,
  samplerCursor,
  type TrainingData,
  type TrainingExample,
  toTrainingExample,
} from "./TrainingData.js";
export type { TrainingSummary } from "./trainingLoop.js";
export {
  runTrainingStep,
  type TrainingStepInput,
  type TrainingStepResult,
  type TrainingStepServices,
} from "./trainingStep.js";
