import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SHAPE_COLORS, type ShapeColor } from "@apo-rl/datasets";
import { createObjective } from "@apo-rl/objectives";
import { BACKEND_NAMES } from "@apo-rl/tensor";
import { describeFailure, readConfigFile, resolveConfigPaths } from "@apo-rl/trainer";
import { selectVariants, splitObjectiveList } from "./compare/objectiveVariants.js";
import {
  compareRunConfig,
  defaultCompareConfig,
  reasoningCompareConfig,
  runCompare,
} from "./compare/runCompare.js";
import { BenchUsageError } from "./errors.js";
import type { EvaluationDataset } from "./eval/evaluationData.js";
import { runEval } from "./eval/runEval.js";
import {
  choiceOption,
  flag,
  integerListOption,
  integerOption,
  listOption,
  numberOption,
  type ParsedArguments,
  parseArguments,
  repeatedOption,
  stringOption,
} from "./internal/arguments.js";
import { compareHelp, evalHelp, mainHelp, perfHelp } from "./internal/help.js";
import { type BenchmarkOutcome, writeBenchmark } from "./output.js";
import { perfSuites } from "./perf/perfSuites.js";
import type { TrainStepModel } from "./perf/trainStep.js";
import { pickPolicyDirectory } from "./policyDirectory.js";

/**
 * Where the CLI writes: result lines to `stdout`, progress and errors to `stderr`.
 *
 * @since 0.1.0
 * @category cli
 */
export interface BenchCliOutput {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const processOutput: BenchCliOutput = {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
};

const commonOptions = {
  out: { type: "string" },
  name: { type: "string" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
} as const;

const evalOptions = {
  ...commonOptions,
  task: { type: "string" },
  "max-count": { type: "string" },
  policy: { type: "string" },
  "lora-rank": { type: "string" },
  dataset: { type: "string" },
  format: { type: "string" },
  size: { type: "string" },
  variant: { type: "string" },
  difficulty: { type: "string" },
  "target-colors": { type: "string" },
  limit: { type: "string" },
  "skip-invalid": { type: "boolean" },
  "allow-outside-root": { type: "boolean" },
  samples: { type: "string" },
  temperature: { type: "string" },
  "max-new-tokens": { type: "string" },
  "pass-at-k": { type: "string" },
  "batch-size": { type: "string" },
  seed: { type: "string" },
  reward: { type: "string" },
  accuracy: { type: "string" },
  workers: { type: "string" },
  backend: { type: "string" },
} as const;

const compareOptions = {
  ...commonOptions,
  task: { type: "string" },
  objectives: { type: "string" },
  seeds: { type: "string" },
  "seed-list": { type: "string" },
  steps: { type: "string" },
  policy: { type: "string" },
  config: { type: "string" },
  set: { type: "string", multiple: true },
  "runs-dir": { type: "string" },
  "reuse-runs": { type: "boolean" },
} as const;

const perfOptions = {
  ...commonOptions,
  backend: { type: "string" },
  quick: { type: "boolean" },
  repeats: { type: "string" },
  models: { type: "string" },
  prompts: { type: "string" },
  "group-size": { type: "string" },
  "max-new-tokens": { type: "string" },
  "lora-rank": { type: "string" },
  warmup: { type: "string" },
  "no-gradient-checkpointing": { type: "boolean" },
  "no-reference-in-rollout": { type: "boolean" },
  "no-retain-states": { type: "boolean" },
  "wasm-threads": { type: "string" },
  "max-tokens-per-micro-batch": { type: "string" },
} as const;

interface Run {
  readonly name: string;
  readonly settings: unknown;
  readonly outcome: () => Promise<BenchmarkOutcome>;
}

const version = (): string =>
  (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
    .version;

/** `--target-colors red,blue`: the colours synthetic questions ask about. */
const targetColorsOption = (parsed: ParsedArguments): { targetColors?: ReadonlyArray<ShapeColor> } => {
  const raw = parsed.values["target-colors"];
  if (raw === undefined) return {};
  const colors = String(raw)
    .split(",")
    .map((color) => color.trim());
  const unknown = colors.filter((color) => !(SHAPE_COLORS as ReadonlyArray<string>).includes(color));
  if (colors.length === 0 || unknown.length > 0)
    throw new BenchUsageError({
      option: "--target-colors",
      reason: `expected a comma-separated list of ${SHAPE_COLORS.join(", ")}, got ${JSON.stringify(raw)}`,
    });
  return { targetColors: colors as ReadonlyArray<ShapeColor> };
};

const evalDataset = (parsed: ParsedArguments): EvaluationDataset => {
  const source = stringOption(parsed, "dataset", "synthetic");
  const task = choiceOption(parsed, "task", ["counting", "reasoning"], "counting");
  if (task === "reasoning") {
    if (source !== "synthetic")
      throw new BenchUsageError({
        option: "--task",
        reason: "reasoning is a synthetic task: drop --dataset",
      });
    return {
      kind: "reasoning",
      size: integerOption(parsed, "size", 64, 1),
      maxCount: integerOption(parsed, "max-count", 6, 2),
      ...targetColorsOption(parsed),
    };
  }
  if (source === "synthetic")
    return {
      kind: "synthetic",
      size: integerOption(parsed, "size", 64, 1),
      variant: choiceOption(parsed, "variant", ["count", "sum", "mixed"], "count"),
      difficulty: numberOption(parsed, "difficulty", 0.5, 0, 1),
      ...targetColorsOption(parsed),
    };
  const format = parsed.values["format"];
  const limit = parsed.values["limit"];
  return {
    kind: "file",
    path: resolve(source),
    ...(format === undefined
      ? {}
      : { format: choiceOption(parsed, "format", ["view-r1", "jsonl"], "view-r1") }),
    skipInvalid: flag(parsed, "skip-invalid"),
    allowOutsideRoot: flag(parsed, "allow-outside-root"),
    ...(limit === undefined ? {} : { limit: integerOption(parsed, "limit", 0, 1) }),
  };
};

const evalRun = (parsed: ParsedArguments, progress: (line: string) => void): Run => {
  const dataset = evalDataset(parsed);
  const temperature = numberOption(parsed, "temperature", 0, 0);
  const samples = integerOption(parsed, "samples", 1, 1);
  if (temperature === 0 && samples > 1)
    throw new BenchUsageError({
      option: "--samples",
      reason:
        "greedy decoding (--temperature 0) gives identical samples: sample with --temperature > 0 for pass@k",
    });
  const passAtK = integerListOption(parsed, "pass-at-k", undefined, 1);
  const tooLarge = passAtK?.find((k) => k > samples);
  if (tooLarge !== undefined)
    throw new BenchUsageError({
      option: "--pass-at-k",
      reason: `k = ${tooLarge} exceeds --samples ${samples}`,
    });
  const loraRank = integerOption(parsed, "lora-rank", 0, 0);
  const settings = {
    policy: stringOption(parsed, "policy", dataset.kind === "reasoning" ? "reasoning" : "demo"),
    ...(loraRank > 0 ? { policyOptions: { lora: { rank: loraRank, alpha: 2 * loraRank } } } : {}),
    dataset,
    reward: {
      preset: choiceOption(parsed, "reward", ["view-r1", "accuracy"], "view-r1"),
      accuracy: choiceOption(
        parsed,
        "accuracy",
        ["math", "counting", "choice"],
        dataset.kind === "file" ? "math" : "counting",
      ),
      workers: integerOption(parsed, "workers", 1, 0),
    },
    backend: choiceOption(parsed, "backend", ["auto", ...BACKEND_NAMES], "auto"),
    samples,
    temperature,
    maxNewTokens: integerOption(parsed, "max-new-tokens", 64, 1),
    seed: integerOption(parsed, "seed", 0, 0),
    batchSize: integerOption(parsed, "batch-size", 16, 1),
    ...(passAtK === undefined ? {} : { passAtK }),
  } as const;
  progress(
    `eval: ${settings.policy} on ${dataset.kind === "file" ? dataset.path : `the synthetic ${dataset.kind === "reasoning" ? "reasoning" : "counting"} task`}`,
  );
  return {
    name: "eval",
    settings,
    outcome: async () => {
      if (["demo", "demo-init", "reasoning"].includes(settings.policy)) return runEval(settings);
      const picked = await pickPolicyDirectory(settings.policy);
      progress(picked.note);
      return runEval({ ...settings, policy: picked.directory });
    },
  };
};

const compareRun = (parsed: ParsedArguments, out: string, progress: (line: string) => void): Run => {
  const seedList = integerListOption(parsed, "seed-list", undefined, 0);
  const seeds = seedList ?? Array.from({ length: integerOption(parsed, "seeds", 3, 1) }, (_, index) => index);
  const configFile = parsed.values["config"];
  const task = choiceOption(parsed, "task", ["counting", "reasoning"], "counting");
  const baseConfig =
    typeof configFile === "string"
      ? resolveConfigPaths(readConfigFile(configFile), configFile)
      : task === "reasoning"
        ? reasoningCompareConfig()
        : defaultCompareConfig();
  const objectives = parsed.values["objectives"];
  const variants = selectVariants(
    objectives === undefined
      ? ["grpo", "grpoD", "apo", "apo-no-dads", "apo-no-stcr"]
      : splitObjectiveList(String(objectives)),
  );
  const settings = {
    variants,
    seeds,
    steps: integerOption(parsed, "steps", 100, 1),
    policy: stringOption(parsed, "policy", task === "reasoning" ? "reasoning" : "demo"),
    runsDirectory: resolve(stringOption(parsed, "runs-dir", join(out, "compare-runs"))),
    baseConfig,
    overrides: repeatedOption(parsed, "set"),
    reuseRuns: parsed.values["reuse-runs"] === true,
  };
  // Fail before any training: every run's config must decode and every objective must exist.
  for (const variant of variants) {
    compareRunConfig(settings, variant, seeds[0]!, settings.runsDirectory);
    createObjective(variant.objective, variant.options);
  }
  return { name: "compare", settings, outcome: () => runCompare({ ...settings, onProgress: progress }) };
};

const perfRuns = (parsed: ParsedArguments, progress: (line: string) => void): ReadonlyArray<Run> => {
  const suite = parsed.positionals[0];
  if (suite === undefined)
    throw new BenchUsageError({
      option: "suite",
      reason: `name a suite: ${[...perfSuites.map((entry) => entry.name), "all"].join(", ")}`,
    });
  const selected = suite === "all" ? perfSuites : perfSuites.filter((entry) => entry.name === suite);
  if (selected.length === 0)
    throw new BenchUsageError({
      option: "suite",
      reason: `unknown suite ${JSON.stringify(suite)}: one of ${[...perfSuites.map((entry) => entry.name), "all"].join(", ")}`,
    });
  const models = listOption(parsed, "models", []);
  const known = ["demo", "qwen2.5-0.5b", "qwen2.5-vl-3b"];
  const unknownModel = models.find((model) => !known.includes(model));
  if (unknownModel !== undefined)
    throw new BenchUsageError({
      option: "--models",
      reason: `unknown model ${JSON.stringify(unknownModel)}: ${known.join(", ")}`,
    });
  const optional = (option: string, minimum: number) =>
    parsed.values[option] === undefined ? undefined : integerOption(parsed, option, 0, minimum);
  const trainStep = Object.fromEntries(
    Object.entries({
      models: models.length === 0 ? undefined : (models as ReadonlyArray<TrainStepModel>),
      prompts: optional("prompts", 1),
      groupSize: optional("group-size", 2),
      maxNewTokens: optional("max-new-tokens", 1),
      loraRank: optional("lora-rank", 0),
      warmup: optional("warmup", 0),
      gradientCheckpointing: flag(parsed, "no-gradient-checkpointing") ? false : undefined,
      referenceInRollout: flag(parsed, "no-reference-in-rollout") ? false : undefined,
      retainStates: flag(parsed, "no-retain-states") ? false : undefined,
      maxTokensPerMicroBatch: optional("max-tokens-per-micro-batch", 1),
    }).filter(([, value]) => value !== undefined),
  );
  const repeats = optional("repeats", 1);
  const settings = { quick: flag(parsed, "quick"), ...(repeats === undefined ? {} : { repeats }), trainStep };
  return selected.map((entry) => ({
    name: `perf-${entry.name}`,
    settings: { suite: entry.name, ...settings },
    outcome: () => entry.run({ ...settings, onProgress: progress }),
  }));
};

const subcommands = {
  eval: { help: evalHelp, options: evalOptions },
  compare: { help: compareHelp, options: compareOptions },
  perf: { help: perfHelp, options: perfOptions },
} as const;

const execute = async (
  runs: ReadonlyArray<Run>,
  parsed: ParsedArguments,
  out: string,
  output: BenchCliOutput,
): Promise<void> => {
  const customName = parsed.values["name"];
  for (const run of runs) {
    const startedAt = new Date();
    const outcome = await run.outcome();
    const name =
      typeof customName === "string"
        ? runs.length === 1
          ? customName
          : `${customName}-${run.name}`
        : run.name;
    const written = writeBenchmark(out, name, run.settings, startedAt, outcome);
    output.stdout(`${outcome.table}\n`);
    output.stdout(`wrote ${written.join(", ")}`);
  }
};

/**
 * `apo-bench` without the process: parse `argv` (without `node` and the script), run, write the
 * outputs, and resolve to the exit status (0 done, 1 failed, 2 bad command line).
 *
 * @since 0.1.0
 * @category cli
 */
export const runBenchCli = async (
  argv: ReadonlyArray<string>,
  output: BenchCliOutput = processOutput,
): Promise<number> => {
  const verbose = argv.includes("--verbose");
  const [command, ...rest] = argv.filter((argument) => argument !== "--verbose");
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    output.stdout(mainHelp);
    return command === undefined ? 2 : 0;
  }
  if (command === "--version") {
    output.stdout(version());
    return 0;
  }
  if (!(command in subcommands)) {
    output.stderr(`apo-bench: unknown subcommand ${JSON.stringify(command)}\n\n${mainHelp}`);
    return 2;
  }
  const subcommand = subcommands[command as keyof typeof subcommands];
  let parsed: ParsedArguments;
  let runs: ReadonlyArray<Run>;
  let out: string;
  try {
    parsed = parseArguments(rest, subcommand.options);
    if (flag(parsed, "help")) {
      output.stdout(subcommand.help);
      return 0;
    }
    out = resolve(stringOption(parsed, "out", "bench-results"));
    const progress = flag(parsed, "quiet") ? () => {} : output.stderr;
    if (command !== "perf" && parsed.positionals.length > 0)
      throw new BenchUsageError({
        option: "arguments",
        reason: `unexpected ${parsed.positionals.join(" ")}`,
      });
    runs =
      command === "eval"
        ? [evalRun(parsed, progress)]
        : command === "compare"
          ? [compareRun(parsed, out, progress)]
          : perfRuns(parsed, progress);
    // perf: `--backend` replaces each suite's wasm/cpu choice, through APO_BACKEND (also honoured).
    const backend = parsed.values["backend"];
    if (command === "perf" && typeof backend === "string" && backend !== "auto") {
      choiceOption(parsed, "backend", ["auto", ...BACKEND_NAMES], "auto");
      process.env.APO_BACKEND = backend;
    }
    // perf: `--wasm-threads` sets the wasm backend's thread pool, through APO_WASM_THREADS (checked
    // when the backend starts: a bad value fails there, naming the variable).
    const threads = parsed.values["wasm-threads"];
    if (command === "perf" && typeof threads === "string") {
      choiceOption(parsed, "wasm-threads", ["auto", "1", "2", "3", "4", "5", "6", "7", "8"], "1");
      process.env.APO_WASM_THREADS = threads;
    }
  } catch (error) {
    // A bad option, or a --config file that cannot be read: the command line is at fault.
    output.stderr(`apo-bench ${command}: ${describeFailure(error, { verbose })}\n\n${subcommand.help}`);
    return 2;
  }
  try {
    await execute(runs, parsed, out, output);
    return 0;
  } catch (error) {
    output.stderr(`apo-bench ${command}: ${describeFailure(error, { verbose })}\n`);
    return 1;
  }
};
