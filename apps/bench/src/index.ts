/**
 * The benchmark runner of apo-rl (`apo-bench`): quality evaluations of a policy, objective
 * comparisons under identical seeds, and performance suites. Every run writes JSON (machine,
 * versions, settings, results), a markdown table and SVG charts.
 *
 * @since 0.1.0
 */

export {
  type ObjectiveVariant,
  objectiveVariants,
  selectVariants,
  splitObjectiveList,
} from "./compare/objectiveVariants.js";
export {
  builtinCompareConfig,
  type CompareOptions,
  type CompareRun,
  type CompareSummary,
  compareRunConfig,
  compareTable,
  defaultCompareConfig,
  finishedRunSummary,
  type MeanStd,
  mechanismTable,
  reasoningCompareConfig,
  runCompare,
  versusGrpoTable,
} from "./compare/runCompare.js";
export { BenchSetupError, BenchUsageError } from "./errors.js";
export {
  defaultPassAtK,
  type EvaluationResults,
  type EvaluationSettings,
  type EvaluationSummary,
  evaluatePolicy,
  type PromptOutcome,
} from "./eval/evaluatePolicy.js";
export {
  type EvaluationData,
  type EvaluationDataset,
  loadEvaluationData,
  loadEvaluationItems,
} from "./eval/evaluationData.js";
export { type EvalOptions, evaluationTable, runEval } from "./eval/runEval.js";
export { type MachineInfo, machineInfo } from "./machine.js";
export { type BenchmarkOutcome, type BenchmarkRecord, writeBenchmark } from "./output.js";
export { type GeneratePerfOptions, type GeneratePerfRow, runGeneratePerf } from "./perf/generate.js";
export { type ModelPerfOptions, type ModelPerfRow, runModelPerf } from "./perf/model.js";
export { type PerfSettings, type PerfSuite, perfSuites } from "./perf/perfSuites.js";
export { type RewardsPerfOptions, type RewardsPerfRow, runRewardsPerf } from "./perf/rewards.js";
export {
  runTensorPerf,
  type TensorPerfComparison,
  type TensorPerfMeasurement,
  type TensorPerfOptions,
  type TensorPerfResults,
  tensorPerfTable,
} from "./perf/tensor.js";
export {
  runTrainStepPerf,
  type TrainStepModel,
  type TrainStepPerfOptions,
  type TrainStepPerfRow,
  type TrainStepPhases,
  trainStepTable,
} from "./perf/trainStep.js";
export {
  demoDirectories,
  type LoadedPolicy,
  type LoadPolicyOptions,
  loadPolicy,
  type PolicySource,
} from "./policySource.js";
export { createReferenceCheck, createRewardVerifier, type RewardSettings } from "./rewardVerifier.js";
export { type BenchCliOutput, runBenchCli } from "./runBenchCli.js";
export {
  mean,
  median,
  type PairedDifference,
  pairedDifference,
  passAtK,
  standardDeviation,
  studentTCdf,
  studentTQuantile,
} from "./statistics.js";

/**
 * @since 0.1.0
 */
export const packageName = "@apo-rl/bench";
