/**
 * The reference trainer of apo-rl (`apo-train`): config, AdamW, the training step and loop,
 * checkpoints, metrics and the HTML report, for any `PolicyV1` over tfjs tensors.
 *
 * @since 0.1.0
 */
export { AdamW, type AdamWMoments, type AdamWOptions, type AdamWState } from "./AdamW.js";
export { type BatchVerifier, inProcessBatchVerifier, type VerificationItem } from "./BatchVerifier.js";
export {
  type CheckpointLocation,
  checkpointName,
  latestCheckpoint,
  listCheckpoints,
  loadTrainingCheckpoint,
  parametersAreFinite,
  removeStaleTemporaries,
  saveTrainingCheckpoint,
  type TrainerState,
  writeCheckpoint,
} from "./checkpoint.js";
export { createTrainingData } from "./createTrainingData.js";
export {
  createObjectiveFromConfig,
  createPolicyFromConfig,
  createVerifierFromConfig,
  defaultTrainerHooks,
  initBackendFromConfig,
  verifierFromConfig,
} from "./defaultHooks.js";
export { CheckpointError, ConfigError, NonFiniteTrainingError, TrainerSetupError } from "./errors.js";
export { type EvaluationOptions, evaluate } from "./evaluation.js";
export { clipByGlobalNorm, globalGradientNorm } from "./gradientClipping.js";
export { type LearningRateSchedule, learningRateAt } from "./learningRate.js";
export { type ChartSeries, escapeXml, type LineChartOptions, lineChartSvg, niceTicks } from "./lineChart.js";
export { applyOverrides, loadConfig, parseOverride, readConfigFile, resolveConfig } from "./loadConfig.js";
export { type MechanismMetrics, mechanismMetricNames, mechanismMetrics } from "./mechanismMetrics.js";
export {
  type EvaluationRecord,
  headlineMetric,
  type MetricsRecord,
  type RolloutStatistics,
  rolloutStatistics,
  type TrainStepRecord,
} from "./metrics.js";
export { appendMetrics, truncateMetrics } from "./metricsLog.js";
export { formatDuration, formatEvaluationLine, formatProgressLine } from "./progress.js";
export { reasoningCheckpointDirectory, reasoningConfigDirectory } from "./reasoning/reasoningAssets.js";
export { readMetrics, renderReport, writeReport } from "./report.js";
export { type CliOutput, describeFailure, runCli } from "./runCli.js";
export {
  groupRollouts,
  rewardBreakdown,
  type ScoredGroup,
  scoreGroups,
  uniqueRequests,
} from "./scoring.js";
export {
  TrainerBackend,
  type TrainerFailure,
  TrainerSettings,
  TrainingDataSource,
  TrainingObjective,
  TrainingPolicy,
  TrainingVerifier,
  trainerLayer,
} from "./services.js";
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
export type { TrainerHooks } from "./TrainerHooks.js";
export {
  type PromptCursor,
  samplerCursor,
  type TrainingData,
  type TrainingExample,
  toTrainingExample,
} from "./TrainingData.js";
export { resolveHooks, type TrainOptions, train, trainProgram } from "./train.js";
export {
  objectiveUsesReference,
  runTrainingLoop,
  type TrainingLoopOptions,
  type TrainingRun,
  type TrainingSummary,
} from "./trainingLoop.js";
export {
  runTrainingStep,
  type TrainingStepInput,
  type TrainingStepResult,
  type TrainingStepServices,
} from "./trainingStep.js";

/**
 * @since 0.1.0
 */
export const packageName = "@apo-rl/trainer";
