/**
 * The reference trainer of apo-rl (`apo-train`): config, AdamW, the training step and loop,
 * checkpoints, metrics and the HTML report, for any `PolicyV1` over tfjs tensors.
 *
 * @since 0.1.0
 */
// Every export of ./portable.js (no Node built-ins), plus what needs Node.
export { AdamW, type AdamWMoments, type AdamWOptions, type AdamWState } from "./AdamW.js";
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
export { CONFIG_PATH_KEYS, resolveConfigPaths } from "./configPaths.js";
export { createTrainingData } from "./createTrainingData.js";
export {
  createObjectiveFromConfig,
  createPolicyFromConfig,
  createVerifierFromConfig,
  defaultTrainerHooks,
  initBackendFromConfig,
  verifierFromConfig,
} from "./defaultHooks.js";
export {
  CheckpointError,
  ConfigError,
  NonFiniteTrainingError,
  PluginError,
  PreflightError,
  ResumeConfigError,
  RunLockError,
  TrainerSetupError,
} from "./errors.js";
export { InMemoryAdamW } from "./InMemoryAdamW.js";
export { type ChartSeries, escapeXml, type LineChartOptions, lineChartSvg, niceTicks } from "./lineChart.js";
export {
  applyOverrides,
  loadConfig,
  loadConfigWithPlugins,
  parseOverride,
  readConfigFile,
  resolveConfig,
} from "./loadConfig.js";
export {
  type EvaluationRecord,
  headlineMetric,
  type MetricsRecord,
  type RolloutStatistics,
  rolloutStatistics,
  type SkippedRowRecord,
  type TrainStepRecord,
} from "./metrics.js";
export { appendMetrics, truncateMetrics } from "./metricsLog.js";
export { loadPlugins } from "./plugins.js";
export * from "./portable.js";
export { createRunDirectory, directorySize, preflight } from "./preflight.js";
export { formatDuration, formatEvaluationLine, formatProgressLine } from "./progress.js";
export { reasoningCheckpointDirectory, reasoningConfigDirectory } from "./reasoning/reasoningAssets.js";
export { referenceValidatorFromConfig } from "./referenceValidation.js";
export { readMetrics, renderReport, writeReport } from "./report.js";
export {
  type ConfigDifference,
  checkResumeConfig,
  configDifferences,
  describeDifference,
  OBSERVING_KEYS,
} from "./resumeConfigCheck.js";
export { RolloutServiceError } from "./rollout/errors.js";
export { imageDataUri } from "./rollout/imageDataUri.js";
export {
  inProcessRolloutSource,
  type RolloutAssignment,
  type RolloutBatch,
  type RolloutServiceRecord,
  type RolloutSource,
} from "./rollout/RolloutSource.js";
export {
  type RemoteRolloutSourceOptions,
  remoteRolloutSource,
  type WeightSync,
} from "./rollout/remoteRolloutSource.js";
export { rolloutGenerationOptions } from "./rollout/rolloutGenerationOptions.js";
export {
  chatCompletionBody,
  type RemoteChoice,
  type RolloutServerClient,
  type RolloutServerClientOptions,
  rolloutServerClient,
} from "./rollout/rolloutServerClient.js";
export {
  createRolloutSourceFromConfig,
  type RolloutSourceSetup,
  spawnConfiguredRolloutServers,
} from "./rollout/rolloutSourceFromConfig.js";
export {
  defaultServeCommand,
  type SpawnedRolloutServers,
  type SpawnRolloutServersOptions,
  spawnRolloutServers,
} from "./rollout/spawnRolloutServers.js";
export { startingRolloutSource } from "./rollout/startingRolloutSource.js";
export { type WarmUpOptions, warmUpRolloutServers } from "./rollout/warmUpRolloutServers.js";
export {
  decodeFailure,
  type PromptMeasure,
  type RowLimits,
  type SkippedRow,
  validateRows,
} from "./rowValidation.js";
export { type CliOutput, describeFailure, exitStatusOf, runCli } from "./runCli.js";
export { acquireRunLock, RUN_LOCK_FILE, type RunLock, type RunLockOwner } from "./runLock.js";
export { invalidRequest, notFound, ServeRequestError } from "./serve/errors.js";
export {
  type ChatCompletionRequest,
  type CompletionRequest,
  decodeChatCompletionRequest,
  decodeCompletionRequest,
  decodeLoadLoraRequest,
  decodeUnloadLoraRequest,
  decodeUpdateWeightsRequest,
  type SamplingRequest,
} from "./serve/openAiRequests.js";
export {
  chatCompletionResponse,
  completionResponse,
  errorResponse,
  modelListResponse,
} from "./serve/openAiResponses.js";
export { type RolloutServer, type RolloutServerOptions, startRolloutServer } from "./serve/rolloutServer.js";
export {
  createServeEngine,
  type GeneratedChoice,
  type GenerationResult,
  type ServedModel,
  type ServeEngine,
  type ServeEngineOptions,
} from "./serve/ServeEngine.js";
export { parseServeArguments, runServeCli, type ServeArguments, serveUsage } from "./serve/serveCommand.js";
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
export { drawUsableExamples, skippedRowRecord } from "./skippedRows.js";
export {
  type AccumulatedGradients,
  accumulateGradients,
  applyUpdate,
  type UpdateOutcome,
} from "./step/gradientStep.js";
export { planMicroBatches, splitRows } from "./step/microBatches.js";
export type { PhaseReport, StepHooks, StepPhase } from "./step/phases.js";
export type { TrainerHooks } from "./TrainerHooks.js";
export { resolveHooks, type TrainOptions, train, trainProgram } from "./train.js";
export {
  objectiveUsesReference,
  runTrainingLoop,
  type TrainingLoopOptions,
  type TrainingRun,
  type TrainingSummary,
  usesReferenceAtAnyStep,
} from "./trainingLoop.js";

/**
 * @since 0.1.0
 */
export const packageName = "@apo-rl/trainer";
