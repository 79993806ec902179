import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { QwenVLPolicy } from "@apo-rl/qwen-vl";
import {
  applyOverrides,
  defaultTrainerHooks,
  type EvaluationRecord,
  lineChartSvg,
  readConfigFile,
  readMetrics,
  resolveConfig,
  type TrainablePolicy,
  type TrainerConfig,
  type TrainStepRecord,
  train,
} from "@apo-rl/trainer";
import type { BenchmarkOutcome } from "../output.js";
import { demoDirectories, type LoadPolicyOptions, loadPolicy, type PolicySource } from "../policySource.js";
import { mean, standardDeviation } from "../statistics.js";
import type { ObjectiveVariant } from "./objectiveVariants.js";

/**
 * Settings of `apo-bench compare`: every variant trains once per seed with the same budget.
 *
 * @since 0.1.0
 * @category compare
 */
export interface CompareOptions {
  readonly variants: ReadonlyArray<ObjectiveVariant>;
  readonly seeds: ReadonlyArray<number>;
  readonly steps: number;
  /** The starting policy (default the demo's SFT checkpoint). */
  readonly policy: PolicySource;
  readonly policyOptions?: LoadPolicyOptions;
  /** Where the runs' directories go (`<runsDirectory>/<label>/seed-<seed>`). */
  readonly runsDirectory: string;
  /** The base trainer config (before the variant, seed, steps and overrides are applied). */
  readonly baseConfig: Readonly<Record<string, unknown>>;
  /** Trainer `--set` overrides applied to every run, e.g. `optimizer.lr=1e-4`. */
  readonly overrides: ReadonlyArray<string>;
  readonly onProgress?: (line: string) => void;
}

/**
 * The built-in base config, used when the demo's `demo.yaml` is absent: the same settings as the
 * demo (the synthetic counting task with red targets on the demo policy, wasm, in-thread
 * verification).
 *
 * @since 0.1.0
 * @category compare
 */
export const builtinCompareConfig = (): Readonly<Record<string, unknown>> => ({
  model: { checkpoint: "demo" },
  data: {
    format: "synthetic",
    heldOutSize: 128,
    synthetic: { variant: "count", difficulty: 0.25, trainSize: 2048, targetColors: ["red"] },
  },
  rollout: { groupSize: 8, temperature: 1, maxNewTokens: 12 },
  reward: { preset: "view-r1", accuracy: "counting", workers: 0 },
  optimizer: { lr: 1e-4, warmupSteps: 0, schedule: "constant", weightDecay: 0, gradClip: 1 },
  train: { promptsPerStep: 4 },
  backend: "wasm",
});

/**
 * What one (variant, seed) run gave.
 *
 * @since 0.1.0
 * @category compare
 */
export interface CompareRun {
  readonly label: string;
  readonly seed: number;
  readonly runDir: string;
  /** The tfjs backend the run trained on. */
  readonly backend: string | null;
  readonly heldOutAccuracyBefore: number | null;
  readonly heldOutAccuracyAfter: number | null;
  /** Mean per-token policy entropy of each step's samples. */
  readonly entropy: ReadonlyArray<number | null>;
  /** Mean length of each step's incorrect samples. */
  readonly lengthIncorrect: ReadonlyArray<number | null>;
  /** Mean k3 KL to the reference of each step. */
  readonly kl: ReadonlyArray<number | null>;
  /** Held-out accuracy at each evaluation: `[step, accuracy]`. */
  readonly heldOut: ReadonlyArray<readonly [number, number]>;
  readonly wallSeconds: number;
}

/**
 * Mean ± sample standard deviation over seeds (`null` when no seed produced the value).
 *
 * @since 0.1.0
 * @category compare
 */
export interface MeanStd {
  readonly mean: number | null;
  readonly std: number | null;
  readonly n: number;
}

/**
 * One variant over all seeds.
 *
 * @since 0.1.0
 * @category compare
 */
export interface CompareSummary {
  readonly label: string;
  readonly objective: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly heldOutAccuracyBefore: MeanStd;
  readonly heldOutAccuracyAfter: MeanStd;
  /** After − before, per seed. */
  readonly improvement: MeanStd;
  /** Mean entropy over the last quarter of the steps. */
  readonly finalEntropy: MeanStd;
  /** Mean length of incorrect samples over the last quarter of the steps. */
  readonly lengthIncorrect: MeanStd;
  /** Mean KL to the reference over the last quarter of the steps. */
  readonly kl: MeanStd;
  readonly wallSeconds: MeanStd;
  /** Per-step mean over seeds. */
  readonly entropyTrajectory: ReadonlyArray<number | null>;
  readonly lengthIncorrectTrajectory: ReadonlyArray<number | null>;
  readonly klTrajectory: ReadonlyArray<number | null>;
  /** Held-out accuracy at each evaluation, mean over seeds: `[step, accuracy]`. */
  readonly heldOutTrajectory: ReadonlyArray<readonly [number, number]>;
}

/**
 * The base config of the comparison: the embedded demo's own config (`assets/demo/demo.yaml` of
 * @apo-rl/trainer) when it exists, so that `compare` measures the demo's setup; else
 * {@link builtinCompareConfig}. The objective, seed, steps, evaluation schedule and run directory
 * are set per run on top of it.
 *
 * @since 0.1.0
 * @category compare
 */
export const defaultCompareConfig = (): Readonly<Record<string, unknown>> => {
  const demoConfig = join(demoDirectories().base, "demo.yaml");
  return existsSync(demoConfig)
    ? (readConfigFile(demoConfig) as Readonly<Record<string, unknown>>)
    : builtinCompareConfig();
};

const meanStd = (values: ReadonlyArray<number | null>): MeanStd => {
  const present = values.filter((value): value is number => value !== null && Number.isFinite(value));
  return { mean: mean(present), std: standardDeviation(present), n: present.length };
};

const lastQuarter = (values: ReadonlyArray<number | null>): number | null => {
  const tail = values.slice(values.length - Math.max(1, Math.ceil(values.length / 4)));
  return mean(tail.filter((value): value is number => value !== null));
};

const perStepMean = (series: ReadonlyArray<ReadonlyArray<number | null>>): ReadonlyArray<number | null> => {
  const length = Math.max(0, ...series.map((values) => values.length));
  return Array.from({ length }, (_, step) =>
    mean(series.map((values) => values[step] ?? null).filter((value): value is number => value !== null)),
  );
};

/**
 * The trainer config of one run.
 *
 * @since 0.1.0
 * @category compare
 */
export const compareRunConfig = (
  options: Pick<CompareOptions, "baseConfig" | "overrides" | "steps" | "policy">,
  variant: ObjectiveVariant,
  seed: number,
  runDir: string,
): TrainerConfig => {
  const base = structuredClone(options.baseConfig) as Record<string, Record<string, unknown>>;
  const merged = {
    ...base,
    model: { ...base["model"], checkpoint: options.policy },
    objective: { name: variant.objective, options: variant.options },
    // Held-out evaluation before the first step and after the last.
    train: { ...base["train"], steps: options.steps, seed, evalEvery: options.steps },
    output: { ...base["output"], runDir },
  };
  return resolveConfig(
    applyOverrides(merged, options.overrides),
    `compare run ${variant.label} seed ${seed}`,
  );
};

const oneRun = async (
  options: CompareOptions,
  variant: ObjectiveVariant,
  seed: number,
): Promise<CompareRun> => {
  const runDir = join(options.runsDirectory, variant.label, `seed-${seed}`);
  await rm(runDir, { recursive: true, force: true });
  const config = compareRunConfig(options, variant, seed, runDir);
  let created: TrainablePolicy | undefined;
  let release = () => {};
  try {
    const summary = await train(config, {
      handleSignals: false,
      log: () => {},
      progress: (line) => options.onProgress?.(`${variant.label} seed ${seed}: ${line}`),
      hooks: {
        createPolicy: async (runConfig) => {
          if (runConfig.model.checkpoint === "demo-init") {
            const loaded = await loadPolicy("demo-init", { ...options.policyOptions, seed });
            release = loaded.dispose;
            return loaded.policy;
          }
          // `demo` and checkpoint directories: exactly the policy `apo-train` builds.
          created = await defaultTrainerHooks.createPolicy(runConfig);
          return created;
        },
      },
    });
    const records = await readMetrics(join(runDir, "metrics.jsonl"));
    const steps = records.filter((record): record is TrainStepRecord => record.kind === "train");
    const evaluations = records.filter((record): record is EvaluationRecord => record.kind === "eval");
    return {
      label: variant.label,
      seed,
      runDir,
      backend: summary.backend,
      heldOutAccuracyBefore: summary.heldOutAccuracyBefore,
      heldOutAccuracyAfter: summary.heldOutAccuracyAfter,
      entropy: steps.map((record) => record.entropy),
      lengthIncorrect: steps.map((record) => record.meanLengthIncorrect),
      kl: steps.map((record) => record.kl),
      heldOut: evaluations.map((record) => [record.step, record.accuracy] as const),
      wallSeconds: summary.wallSeconds,
    };
  } finally {
    release();
    releaseTrainerPolicy(created);
  }
};

/** Release what a trainer-built Qwen policy holds that we can reach: its adapters and its model. */
const releaseTrainerPolicy = (policy: TrainablePolicy | undefined): void => {
  if (policy === undefined) return;
  const qwen = policy as Partial<QwenVLPolicy>;
  qwen.dispose?.();
  qwen.model?.dispose();
};

const summarise = (variant: ObjectiveVariant, runs: ReadonlyArray<CompareRun>): CompareSummary => ({
  label: variant.label,
  objective: variant.objective,
  options: variant.options,
  heldOutAccuracyBefore: meanStd(runs.map((run) => run.heldOutAccuracyBefore)),
  heldOutAccuracyAfter: meanStd(runs.map((run) => run.heldOutAccuracyAfter)),
  improvement: meanStd(
    runs.map((run) =>
      run.heldOutAccuracyAfter === null || run.heldOutAccuracyBefore === null
        ? null
        : run.heldOutAccuracyAfter - run.heldOutAccuracyBefore,
    ),
  ),
  finalEntropy: meanStd(runs.map((run) => lastQuarter(run.entropy))),
  lengthIncorrect: meanStd(runs.map((run) => lastQuarter(run.lengthIncorrect))),
  kl: meanStd(runs.map((run) => lastQuarter(run.kl))),
  wallSeconds: meanStd(runs.map((run) => run.wallSeconds)),
  entropyTrajectory: perStepMean(runs.map((run) => run.entropy)),
  lengthIncorrectTrajectory: perStepMean(runs.map((run) => run.lengthIncorrect)),
  klTrajectory: perStepMean(runs.map((run) => run.kl)),
  heldOutTrajectory: heldOutMean(runs),
});

const heldOutMean = (runs: ReadonlyArray<CompareRun>): ReadonlyArray<readonly [number, number]> => {
  const steps = [...new Set(runs.flatMap((run) => run.heldOut.map(([step]) => step)))].sort((a, b) => a - b);
  return steps.map((step) => {
    const values = runs.flatMap((run) =>
      run.heldOut.filter(([at]) => at === step).map(([, accuracy]) => accuracy),
    );
    return [step, mean(values) ?? 0] as const;
  });
};

const formatMeanStd = (value: MeanStd, digits: number) =>
  value.mean === null ? "—" : `${value.mean.toFixed(digits)} ± ${(value.std ?? 0).toFixed(digits)}`;

/**
 * The markdown table of a comparison: one row per variant, mean ± std over seeds.
 *
 * @since 0.1.0
 * @category compare
 */
export const compareTable = (summaries: ReadonlyArray<CompareSummary>, seeds: number): string =>
  [
    `| objective | seeds | held-out acc. before | held-out acc. after | change | entropy (last ¼) | length of incorrect (last ¼) | KL to reference (last ¼) | wall s |`,
    `|${" --- |".repeat(9)}`,
    ...summaries.map(
      (summary) =>
        `| ${summary.label} | ${seeds} | ${formatMeanStd(summary.heldOutAccuracyBefore, 3)} | ${formatMeanStd(summary.heldOutAccuracyAfter, 3)} | ${formatMeanStd(summary.improvement, 3)} | ${formatMeanStd(summary.finalEntropy, 3)} | ${formatMeanStd(summary.lengthIncorrect, 1)} | ${formatMeanStd(summary.kl, 5)} | ${formatMeanStd(summary.wallSeconds, 1)} |`,
    ),
  ].join("\n");

const trajectoryChart = (
  title: string,
  summaries: ReadonlyArray<CompareSummary>,
  pick: (summary: CompareSummary) => ReadonlyArray<number | null>,
) =>
  lineChartSvg({
    title,
    xLabel: "step",
    series: summaries.map((summary) => ({
      name: summary.label,
      points: pick(summary).map((value, index) => [index + 1, value] as const),
    })),
  });

/**
 * Train every variant once per seed from the same policy with the same budget and data, and
 * summarise: held-out accuracy before/after (mean ± std), entropy, length of incorrect responses,
 * KL to the reference (last quarter of the steps, and per-step trajectories), wall time.
 *
 * @since 0.1.0
 * @category compare
 */
export const runCompare = async (options: CompareOptions): Promise<BenchmarkOutcome> => {
  const runs: CompareRun[] = [];
  for (const seed of options.seeds)
    for (const variant of options.variants) {
      options.onProgress?.(`compare: ${variant.label} seed ${seed}`);
      runs.push(await oneRun(options, variant, seed));
    }
  const summaries = options.variants.map((variant) =>
    summarise(
      variant,
      runs.filter((run) => run.label === variant.label),
    ),
  );
  const exampleConfig = compareRunConfig(options, options.variants[0]!, options.seeds[0]!, "<run>");
  return {
    results: { config: exampleConfig, summaries, runs },
    table: compareTable(summaries, options.seeds.length),
    charts: {
      "held-out-accuracy": lineChartSvg({
        title: "held-out accuracy (mean over seeds)",
        xLabel: "step",
        series: summaries.map((summary) => ({ name: summary.label, points: summary.heldOutTrajectory })),
      }),
      entropy: trajectoryChart(
        "policy entropy (mean over seeds)",
        summaries,
        (summary) => summary.entropyTrajectory,
      ),
      "length-incorrect": trajectoryChart(
        "mean length of incorrect responses (tokens)",
        summaries,
        (summary) => summary.lengthIncorrectTrajectory,
      ),
      kl: trajectoryChart("KL to the reference (k3)", summaries, (summary) => summary.klTrajectory),
    },
  };
};
