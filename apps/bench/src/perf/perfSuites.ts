import type { BenchmarkOutcome } from "../output.js";
import { runGeneratePerf } from "./generate.js";
import { runModelPerf } from "./model.js";
import { runRewardsPerf } from "./rewards.js";
import { runTensorPerf } from "./tensor.js";
import { runTrainStepPerf, type TrainStepPerfOptions } from "./trainStep.js";

/**
 * What every perf suite is given.
 *
 * @since 0.1.0
 * @category perf
 */
export interface PerfSettings {
  /** Tiny shapes and one timed run: a CI smoke run, not a measurement. */
  readonly quick: boolean;
  /** Timed runs per case (the median is reported); the suite's default when absent. */
  readonly repeats?: number;
  readonly onProgress: (line: string) => void;
  /** Extra options of the train-step suite (models, batch shape, LoRA rank, warm-up). */
  readonly trainStep?: Omit<TrainStepPerfOptions, "quick" | "repeats" | "onProgress">;
}

/**
 * One `apo-bench perf <suite>`.
 *
 * @since 0.1.0
 * @category perf
 */
export interface PerfSuite {
  readonly name: string;
  readonly description: string;
  run(settings: PerfSettings): Promise<BenchmarkOutcome>;
}

const repeatsOption = <Key extends string>(key: Key, settings: PerfSettings) =>
  (settings.repeats === undefined ? {} : { [key]: settings.repeats }) as Partial<Record<Key, number>>;

/**
 * Every perf suite, in the order `perf all` runs them.
 *
 * @since 0.1.0
 * @category perf
 */
export const perfSuites: ReadonlyArray<PerfSuite> = [
  {
    name: "tensor",
    description: "fused vs naive log-prob ops of @apo-rl/tensor (time, extra peak memory), Qwen vocabulary",
    run: (settings) =>
      runTensorPerf({
        quick: settings.quick,
        onProgress: settings.onProgress,
        ...repeatsOption("repetitions", settings),
      }),
  },
  {
    name: "rewards",
    description: "verifier throughput (math answers, LaTeX) in one thread and through the worker pool",
    run: (settings) => runRewardsPerf({ quick: settings.quick, onProgress: settings.onProgress }),
  },
  {
    name: "model",
    description: "Qwen2.5-VL forward / decode / vision throughput and peak memory (random weights)",
    run: (settings) =>
      runModelPerf({
        quick: settings.quick,
        onProgress: settings.onProgress,
        ...repeatsOption("repeats", settings),
      }),
  },
  {
    name: "generate",
    description: "rollout engine: batched generate, training log-prob passes (forward, + LoRA gradient)",
    run: (settings) => runGeneratePerf({ quick: settings.quick, onProgress: settings.onProgress }),
  },
  {
    name: "train-step",
    description:
      "one full RL step by phase (rollout, reward, log-probs, backward, update): demo and 0.5B-sized",
    run: (settings) =>
      runTrainStepPerf({
        ...settings.trainStep,
        quick: settings.quick,
        onProgress: settings.onProgress,
        ...repeatsOption("repeats", settings),
      }),
  },
];
