import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { QwenVLPolicy } from "@apo-rl/qwen-vl";
import {
  applyOverrides,
  configDifferences,
  defaultTrainerHooks,
  type EvaluationRecord,
  lineChartSvg,
  type MechanismMetrics,
  mechanismMetricNames,
  readConfigFile,
  readMetrics,
  reasoningConfigDirectory,
  resolveConfig,
  type TrainablePolicy,
  type TrainerConfig,
  type TrainStepRecord,
  train,
} from "@apo-rl/trainer";
import type { BenchmarkOutcome } from "../output.js";
import { demoDirectories, type LoadPolicyOptions, loadPolicy, type PolicySource } from "../policySource.js";
import { mean, type PairedDifference, pairedDifference, standardDeviation } from "../statistics.js";
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
  /**
   * Read back a run whose directory already holds a finished run of exactly this config (its
   * `config.json` equal in every key, its `summary.json` not interrupted, all steps done) instead of
   * training it again: an interrupted study resumes, and disjoint `--seed-list`s can run in
   * separate processes over one runs directory and be summarised together. Default `false`: every
   * run trains from scratch.
   */
  readonly reuseRuns?: boolean;
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
  /** Mean length of each step's correct samples. */
  readonly lengthCorrect: ReadonlyArray<number | null>;
  /** Each step's mechanism telemetry (the trainer's `MechanismMetrics`), one series per name. */
  readonly mechanism: { readonly [K in keyof MechanismMetrics]: ReadonlyArray<number | null> };
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
  /** Mean length of correct samples over the last quarter of the steps. */
  readonly lengthCorrect: MeanStd;
  /** Entropy over the last quarter divided by the entropy of the first step, per seed. */
  readonly entropyRetention: MeanStd;
  readonly wallSeconds: MeanStd;
  /** Of the incorrect samples, the fraction STCR penalised: per run the mean over steps. */
  readonly stcrPenalisedFraction: MeanStd;
  /** The penalised samples' mean STCR scale: per run the mean over the steps where STCR acted. */
  readonly stcrMeanScale: MeanStd;
  /** DADS weights of the positive-advantage samples: per run the mean over steps … */
  readonly dadsWeightMean: MeanStd;
  /** … the smallest over the run … */
  readonly dadsWeightMin: MeanStd;
  /** … and the largest over the run. */
  readonly dadsWeightMax: MeanStd;
  /** Mean group difficulty `1 − correct / G`: per run the mean over steps. */
  readonly difficultyMean: MeanStd;
  /** The KL term's share of the loss: per run the mean over steps. */
  readonly klShareOfLoss: MeanStd;
  /**
   * Seed-paired differences against the `grpo` variant (same seed, same data order) with 95 %
   * t-intervals; absent for `grpo` itself or when `grpo` is not among the variants.
   */
  readonly versusGrpo?: {
    readonly heldOutAccuracyAfter: PairedDifference;
    readonly improvement: PairedDifference;
    readonly finalEntropy: PairedDifference;
    readonly lengthIncorrect: PairedDifference;
    readonly lengthCorrect: PairedDifference;
    readonly kl: PairedDifference;
  };
  /** Per-step mean over seeds. */
  readonly entropyTrajectory: ReadonlyArray<number | null>;
  readonly lengthIncorrectTrajectory: ReadonlyArray<number | null>;
  readonly klTrajectory: ReadonlyArray<number | null>;
  readonly stcrPenalisedTrajectory: ReadonlyArray<number | null>;
  readonly dadsWeightMeanTrajectory: ReadonlyArray<number | null>;
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

/**
 * The base config of `apo-bench compare --task reasoning`: the trainer's `assets/reasoning/rl.yaml`
 * (the synthetic reasoning task from its committed warm start, `model.checkpoint: reasoning`).
 *
 * @since 0.1.0
 * @category compare
 */
export const reasoningCompareConfig = (): Readonly<Record<string, unknown>> =>
  readConfigFile(join(reasoningConfigDirectory(), "rl.yaml")) as Readonly<Record<string, unknown>>;

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

/** The trainer summary fields a comparison reads. */
type RunSummaryFields = Pick<
  Awaited<ReturnType<typeof train>>,
  "backend" | "heldOutAccuracyBefore" | "heldOutAccuracyAfter" | "wallSeconds"
>;

/** A run's series, read from its `metrics.jsonl`. */
const readRun = async (
  variant: ObjectiveVariant,
  seed: number,
  runDir: string,
  summary: RunSummaryFields,
): Promise<CompareRun> => {
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
    lengthCorrect: steps.map((record) => record.meanLengthCorrect),
    mechanism: Object.fromEntries(
      mechanismMetricNames.map((name) => [name, steps.map((record) => record[name] ?? null)]),
    ) as unknown as CompareRun["mechanism"],
    kl: steps.map((record) => record.kl),
    heldOut: evaluations.map((record) => [record.step, record.accuracy] as const),
    wallSeconds: summary.wallSeconds,
  };
};

const readJson = async (path: string): Promise<unknown> => {
  try {
    return JSON.parse(await readFile(path, "utf8")) as unknown;
  } catch {
    return undefined;
  }
};

/**
 * The summary of a finished run of exactly `config` in `runDir`, or `undefined` when there is none
 * (no run, another config, an interrupted or shorter run, unreadable files).
 *
 * @since 0.1.0
 * @category compare
 */
export const finishedRunSummary = async (
  runDir: string,
  config: TrainerConfig,
): Promise<RunSummaryFields | undefined> => {
  const [written, summary] = await Promise.all([
    readJson(join(runDir, "config.json")),
    readJson(join(runDir, "summary.json")),
  ]);
  if (written === undefined || typeof summary !== "object" || summary === null) return undefined;
  if (configDifferences(written, JSON.parse(JSON.stringify(config))).length > 0) return undefined;
  const fields = summary as Record<string, unknown>;
  const numberOrNull = (value: unknown): value is number | null =>
    value === null || typeof value === "number";
  if (
    fields["interrupted"] !== false ||
    fields["steps"] !== config.train.steps ||
    !numberOrNull(fields["heldOutAccuracyBefore"]) ||
    !numberOrNull(fields["heldOutAccuracyAfter"]) ||
    typeof fields["wallSeconds"] !== "number" ||
    !(fields["backend"] === null || typeof fields["backend"] === "string")
  )
    return undefined;
  return {
    backend: fields["backend"] as string | null,
    heldOutAccuracyBefore: fields["heldOutAccuracyBefore"],
    heldOutAccuracyAfter: fields["heldOutAccuracyAfter"],
    wallSeconds: fields["wallSeconds"],
  } as RunSummaryFields;
};

const oneRun = async (
  options: CompareOptions,
  variant: ObjectiveVariant,
  seed: number,
): Promise<CompareRun> => {
  const runDir = join(options.runsDirectory, variant.label, `seed-${seed}`);
  const config = compareRunConfig(options, variant, seed, runDir);
  if (options.reuseRuns === true) {
    const finished = await finishedRunSummary(runDir, config);
    if (finished !== undefined) {
      options.onProgress?.(`compare: ${variant.label} seed ${seed} read back from ${runDir}`);
      return readRun(variant, seed, runDir, finished);
    }
  }
  await rm(runDir, { recursive: true, force: true });
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
    return await readRun(variant, seed, runDir, summary);
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

const present = (values: ReadonlyArray<number | null>): number[] =>
  values.filter((value): value is number => value !== null && Number.isFinite(value));

/** One run's value of a mechanism series: its mean, its minimum or its maximum over the steps. */
const overRun = (values: ReadonlyArray<number | null>, how: "mean" | "min" | "max"): number | null => {
  const finiteValues = present(values);
  if (finiteValues.length === 0) return null;
  return how === "min"
    ? Math.min(...finiteValues)
    : how === "max"
      ? Math.max(...finiteValues)
      : mean(finiteValues);
};

/** Entropy over the last quarter of the steps relative to the first step's. */
const entropyRetention = (entropy: ReadonlyArray<number | null>): number | null => {
  const first = entropy[0];
  const last = lastQuarter(entropy);
  return first === null || first === undefined || first <= 0 || last === null ? null : last / first;
};

const improvementOf = (run: CompareRun): number | null =>
  run.heldOutAccuracyAfter === null || run.heldOutAccuracyBefore === null
    ? null
    : run.heldOutAccuracyAfter - run.heldOutAccuracyBefore;

/** Per-seed values of `pick` for `runs` and for the matching-seed `control` runs, paired. */
const paired = (
  runs: ReadonlyArray<CompareRun>,
  control: ReadonlyArray<CompareRun>,
  pick: (run: CompareRun) => number | null,
): PairedDifference => {
  const matched = runs.flatMap((run) => {
    const other = control.find((candidate) => candidate.seed === run.seed);
    return other === undefined ? [] : [[pick(run), pick(other)] as const];
  });
  return pairedDifference(
    matched.map(([value]) => value),
    matched.map(([, value]) => value),
  );
};

const summarise = (
  variant: ObjectiveVariant,
  runs: ReadonlyArray<CompareRun>,
  control: ReadonlyArray<CompareRun> | undefined,
): CompareSummary => ({
  label: variant.label,
  objective: variant.objective,
  options: variant.options,
  heldOutAccuracyBefore: meanStd(runs.map((run) => run.heldOutAccuracyBefore)),
  heldOutAccuracyAfter: meanStd(runs.map((run) => run.heldOutAccuracyAfter)),
  improvement: meanStd(runs.map(improvementOf)),
  finalEntropy: meanStd(runs.map((run) => lastQuarter(run.entropy))),
  lengthIncorrect: meanStd(runs.map((run) => lastQuarter(run.lengthIncorrect))),
  kl: meanStd(runs.map((run) => lastQuarter(run.kl))),
  lengthCorrect: meanStd(runs.map((run) => lastQuarter(run.lengthCorrect))),
  entropyRetention: meanStd(runs.map((run) => entropyRetention(run.entropy))),
  wallSeconds: meanStd(runs.map((run) => run.wallSeconds)),
  stcrPenalisedFraction: meanStd(runs.map((run) => overRun(run.mechanism.stcrPenalisedFraction, "mean"))),
  stcrMeanScale: meanStd(
    runs.map((run) =>
      overRun(
        run.mechanism.stcrMeanScale.map((scale, step) =>
          (run.mechanism.stcrPenalisedFraction[step] ?? 0) > 0 ? scale : null,
        ),
        "mean",
      ),
    ),
  ),
  dadsWeightMean: meanStd(runs.map((run) => overRun(run.mechanism.dadsWeightMean, "mean"))),
  dadsWeightMin: meanStd(runs.map((run) => overRun(run.mechanism.dadsWeightMin, "min"))),
  dadsWeightMax: meanStd(runs.map((run) => overRun(run.mechanism.dadsWeightMax, "max"))),
  difficultyMean: meanStd(runs.map((run) => overRun(run.mechanism.difficultyMean, "mean"))),
  klShareOfLoss: meanStd(runs.map((run) => overRun(run.mechanism.klShareOfLoss, "mean"))),
  ...(control === undefined
    ? {}
    : {
        versusGrpo: {
          heldOutAccuracyAfter: paired(runs, control, (run) => run.heldOutAccuracyAfter),
          improvement: paired(runs, control, improvementOf),
          finalEntropy: paired(runs, control, (run) => lastQuarter(run.entropy)),
          lengthIncorrect: paired(runs, control, (run) => lastQuarter(run.lengthIncorrect)),
          lengthCorrect: paired(runs, control, (run) => lastQuarter(run.lengthCorrect)),
          kl: paired(runs, control, (run) => lastQuarter(run.kl)),
        },
      }),
  entropyTrajectory: perStepMean(runs.map((run) => run.entropy)),
  lengthIncorrectTrajectory: perStepMean(runs.map((run) => run.lengthIncorrect)),
  klTrajectory: perStepMean(runs.map((run) => run.kl)),
  stcrPenalisedTrajectory: perStepMean(runs.map((run) => run.mechanism.stcrPenalisedFraction)),
  dadsWeightMeanTrajectory: perStepMean(runs.map((run) => run.mechanism.dadsWeightMean)),
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

/**
 * The mechanism telemetry of a comparison (mean ± std over seeds): what STCR and DADS did, the
 * group difficulty, the KL term's share of the loss, the length of correct answers and the entropy
 * retained.
 *
 * @since 0.1.0
 * @category compare
 */
export const mechanismTable = (summaries: ReadonlyArray<CompareSummary>): string =>
  [
    `| objective | STCR-penalised fraction of incorrect | STCR mean scale | DADS weight mean | DADS weight min (run) | DADS weight max (run) | difficulty mean | KL share of loss | length of correct (last ¼) | entropy retention |`,
    `|${" --- |".repeat(10)}`,
    ...summaries.map(
      (summary) =>
        `| ${summary.label} | ${formatMeanStd(summary.stcrPenalisedFraction, 3)} | ${formatMeanStd(summary.stcrMeanScale, 5)} | ${formatMeanStd(summary.dadsWeightMean, 3)} | ${formatMeanStd(summary.dadsWeightMin, 3)} | ${formatMeanStd(summary.dadsWeightMax, 3)} | ${formatMeanStd(summary.difficultyMean, 3)} | ${formatMeanStd(summary.klShareOfLoss, 5)} | ${formatMeanStd(summary.lengthCorrect, 1)} | ${formatMeanStd(summary.entropyRetention, 3)} |`,
    ),
  ].join("\n");

/** `toFixed` without a sign on values that round to zero (`-0.000` → `0.000`). */
const fixed = (value: number, digits: number): string => {
  const text = value.toFixed(digits);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
};

const formatPaired = (difference: PairedDifference, digits: number): string =>
  difference.mean === null
    ? "—"
    : difference.low === null || difference.high === null
      ? `${fixed(difference.mean, digits)} (n = ${difference.n})`
      : `${fixed(difference.mean, digits)} [${fixed(difference.low, digits)}, ${fixed(difference.high, digits)}]`;

/**
 * The seed-paired differences against `grpo` with 95 % t-intervals, one row per other variant;
 * empty when `grpo` is not compared.
 *
 * @since 0.1.0
 * @category compare
 */
export const versusGrpoTable = (summaries: ReadonlyArray<CompareSummary>): string => {
  const rows = summaries.filter((summary) => summary.versusGrpo !== undefined);
  if (rows.length === 0) return "";
  return [
    `| objective − grpo (same seed) | held-out acc. after [95 % CI] | entropy (last ¼) | length of incorrect (last ¼) | length of correct (last ¼) | KL (last ¼) |`,
    `|${" --- |".repeat(6)}`,
    ...rows.map((summary) => {
      const versus = summary.versusGrpo!;
      return `| ${summary.label} | ${formatPaired(versus.heldOutAccuracyAfter, 3)} | ${formatPaired(versus.finalEntropy, 3)} | ${formatPaired(versus.lengthIncorrect, 2)} | ${formatPaired(versus.lengthCorrect, 2)} | ${formatPaired(versus.kl, 5)} |`;
    }),
  ].join("\n");
};

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
  const control = options.variants.some((variant) => variant.label === "grpo")
    ? runs.filter((run) => run.label === "grpo")
    : undefined;
  const summaries = options.variants.map((variant) =>
    summarise(
      variant,
      runs.filter((run) => run.label === variant.label),
      variant.label === "grpo" ? undefined : control,
    ),
  );
  const exampleConfig = compareRunConfig(options, options.variants[0]!, options.seeds[0]!, "<run>");
  return {
    results: { config: exampleConfig, summaries, runs },
    table: [
      compareTable(summaries, options.seeds.length),
      mechanismTable(summaries),
      versusGrpoTable(summaries),
    ]
      .filter((table) => table !== "")
      .join("\n\n"),
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
      "stcr-penalised": trajectoryChart(
        "fraction of incorrect samples STCR penalises",
        summaries,
        (summary) => summary.stcrPenalisedTrajectory,
      ),
      "dads-weight": trajectoryChart(
        "mean DADS weight of positive-advantage samples",
        summaries,
        (summary) => summary.dadsWeightMeanTrajectory,
      ),
    },
  };
};
