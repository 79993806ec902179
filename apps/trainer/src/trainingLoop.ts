import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { assertSpecificationVersion } from "@apo-rl/core";
import { AdamW } from "./AdamW.js";
import type { BatchVerifier } from "./BatchVerifier.js";
import {
  type CheckpointLocation,
  latestCheckpoint,
  loadTrainingCheckpoint,
  removeStaleTemporaries,
  saveTrainingCheckpoint,
  type TrainerState,
} from "./checkpoint.js";
import { CheckpointError, NonFiniteTrainingError } from "./errors.js";
import { evaluate } from "./evaluation.js";
import { SeededRandom } from "./internal/random.js";
import { learningRateAt } from "./learningRate.js";
import type { EvaluationRecord } from "./metrics.js";
import { appendMetrics, truncateMetrics } from "./metricsLog.js";
import { formatEvaluationLine, formatProgressLine } from "./progress.js";
import { readMetrics, writeReport } from "./report.js";
import type { RolloutSource } from "./rollout/RolloutSource.js";
import { rolloutGenerationOptions } from "./rollout/rolloutGenerationOptions.js";
import { uniqueRequests } from "./scoring.js";
import type { TensorObjective, TrainablePolicy } from "./TrainablePolicy.js";
import type { TrainerConfig } from "./TrainerConfig.js";
import type { TrainingData } from "./TrainingData.js";
import { runTrainingStep } from "./trainingStep.js";

/**
 * The components of a run, built from its config.
 *
 * @since 0.1.0
 * @category training
 */
export interface TrainingRun {
  readonly config: TrainerConfig;
  readonly policy: TrainablePolicy;
  readonly objective: TensorObjective;
  readonly verifier: BatchVerifier;
  readonly data: TrainingData;
  readonly useReference: boolean;
  /** Name of the tfjs backend in use (for the summary). */
  readonly backend?: string;
  /** Where the training rollouts come from (default: the policy, in this process). */
  readonly rolloutSource?: RolloutSource;
}

/**
 * @since 0.1.0
 * @category training
 */
export interface TrainingLoopOptions {
  /** Continue from the newest checkpoint in `output.runDir/checkpoints`. */
  readonly resume?: boolean;
  /** Checkpoint and stop after the current step on SIGINT/SIGTERM (default true). */
  readonly handleSignals?: boolean;
  /** Informational lines (resolved config, checkpoints, evaluations); default: stderr. */
  readonly log?: (line: string) => void;
  /** The per-step progress line; default: stderr. */
  readonly progress?: (line: string) => void;
  /** Stop (with a checkpoint) after the current step once this aborts. */
  readonly stopSignal?: AbortSignal;
}

/**
 * What a run did; also written to `summary.json` in the run directory.
 *
 * @since 0.1.0
 * @category training
 */
export interface TrainingSummary {
  readonly runDir: string;
  readonly objective: string;
  readonly policy: string;
  readonly backend: string | null;
  /** Steps completed, including those before a resume. */
  readonly steps: number;
  readonly plannedSteps: number;
  readonly interrupted: boolean;
  readonly skippedSteps: number;
  readonly heldOutAccuracyBefore: number | null;
  readonly heldOutAccuracyAfter: number | null;
  readonly wallSeconds: number;
  readonly lastCheckpoint: string | null;
  readonly resumedFrom: number | null;
  /** Invalid dataset rows skipped while loading (`--skip-invalid`). */
  readonly skippedDataRows: number;
}

const stderrLine = (line: string) => {
  process.stderr.write(`${line}\n`);
};

const EVALUATION_SEED_OFFSET = 1_000_003;

/**
 * Whether to compute reference log-probs: unless the objective's options set `beta: 0` (and no `klSchedule`).
 *
 * @since 0.1.0
 * @category training
 */
export const objectiveUsesReference = (config: TrainerConfig): boolean =>
  config.objective.options["beta"] !== 0 || config.objective.options["klSchedule"] !== undefined;

const prepareRunDirectory = async (runDirectory: string, checkpoints: string, resume: boolean) => {
  await mkdir(checkpoints, { recursive: true });
  await removeStaleTemporaries(checkpoints);
  if (resume) return;
  const existing = await latestCheckpoint(checkpoints);
  if (existing !== undefined)
    throw new CheckpointError({
      path: existing.path,
      reason:
        "the run directory already holds checkpoints: pass --resume to continue it, or choose another output.runDir",
    });
  for (const entry of await readdir(runDirectory))
    if (["metrics.jsonl", "report.html", "summary.json"].includes(entry)) await rm(join(runDirectory, entry));
};

/** Restore policy, optimizer and data cursor from the newest checkpoint; returns its trainer state. */
const resumeFromLatest = async (
  checkpoints: string,
  run: TrainingRun,
  optimizer: AdamW,
  log: (line: string) => void,
): Promise<TrainerState> => {
  const location = await latestCheckpoint(checkpoints);
  if (location === undefined)
    throw new CheckpointError({
      path: checkpoints,
      reason: "--resume given but there is no complete checkpoint",
    });
  const state = await loadTrainingCheckpoint(location, { policy: run.policy, optimizer });
  run.data.train.restore(state.dataCursor);
  log(`resumed from ${location.path} (step ${state.step})`);
  return state;
};

/** Whether SIGINT/SIGTERM (or the abort signal) asked the loop to stop; `release` removes the handlers. */
const listenForStop = (options: TrainingLoopOptions, log: (line: string) => void) => {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    signalled = true;
    log(`${signal}: finishing the current step, then writing a checkpoint (send again to abort at once)`);
  };
  if (options.handleSignals !== false) {
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  }
  return {
    requested: () => signalled || options.stopSignal?.aborted === true,
    release: () => {
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
    },
  };
};

/** Held-out accuracy of the evaluation before training (step 0) and of the last one after it. */
const heldOutAccuracies = async (metricsFile: string) => {
  const evaluations = (await readMetrics(metricsFile)).filter(
    (record): record is EvaluationRecord => record.kind === "eval",
  );
  const before = evaluations.find((record) => record.step === 0);
  const after = evaluations.at(-1);
  return {
    heldOutAccuracyBefore: before?.accuracy ?? null,
    heldOutAccuracyAfter: after !== undefined && after !== before ? after.accuracy : null,
  };
};

/**
 * The training loop over built components: resume, steps with metrics, periodic evaluation and
 * checkpoints, NaN/Inf guarding, signals, and at the end a checkpoint, `report.html` and
 * `summary.json`.
 *
 * @since 0.1.0
 * @category training
 */
export const runTrainingLoop = async (
  run: TrainingRun,
  options: TrainingLoopOptions = {},
): Promise<TrainingSummary> => {
  const started = performance.now();
  const { config, policy } = run;
  assertSpecificationVersion("PolicyV1", policy);
  assertSpecificationVersion("ObjectiveV1", run.objective);
  const log = options.log ?? stderrLine;
  const progress = options.progress ?? stderrLine;
  const runDirectory = config.output.runDir;
  const checkpoints = join(runDirectory, "checkpoints");
  const metricsFile = join(runDirectory, "metrics.jsonl");
  await prepareRunDirectory(runDirectory, checkpoints, options.resume === true);
  const resolved = `${JSON.stringify(config, null, 2)}\n`;
  await writeFile(join(runDirectory, "config.json"), resolved);
  log(`resolved config (saved to ${join(runDirectory, "config.json")}):\n${resolved}`);
  if ((run.data.skipped ?? 0) > 0) log(`skipped ${run.data.skipped} invalid dataset rows (--skip-invalid)`);

  const optimizer = new AdamW(policy.trainableParameters(), {
    betas: config.optimizer.betas,
    eps: config.optimizer.eps,
    weightDecay: config.optimizer.weightDecay,
  });
  const random = new SeededRandom(config.train.seed);
  let step = 0;
  let consecutiveNonFinite = 0;
  let resumedFrom: number | null = null;
  if (options.resume === true) {
    const state = await resumeFromLatest(checkpoints, run, optimizer, log);
    step = state.step;
    random.restore(state.randomState);
    consecutiveNonFinite = state.consecutiveNonFinite;
    resumedFrom = step;
    await truncateMetrics(metricsFile, step);
  }

  const stop = listenForStop(options, log);

  // `rollout.async: 1`: the next step's prompts are drawn one step ahead so that their rollouts can
  // be sampled while this step trains; a checkpoint keeps the data and sampler state before them.
  let lookahead:
    | {
        readonly examples: ReturnType<typeof run.data.train.next>;
        readonly seed: number;
        readonly dataCursor: unknown;
        readonly randomState: number;
      }
    | undefined;
  const state = () => ({
    step,
    randomState: lookahead?.randomState ?? random.state,
    dataCursor: lookahead?.dataCursor ?? run.data.train.state(),
    consecutiveNonFinite,
  });
  let lastCheckpoint: CheckpointLocation | undefined;
  const checkpoint = async () => {
    lastCheckpoint = await saveTrainingCheckpoint(checkpoints, {
      policy,
      optimizer,
      state: state(),
      keepLast: config.train.keepLast,
    });
    log(`checkpoint written: ${lastCheckpoint.path}`);
  };
  const evaluateNow = async () => {
    if (run.data.heldOut.length === 0) return;
    const record = await evaluate(
      policy,
      run.verifier,
      run.data.heldOut,
      {
        temperature: config.train.evalTemperature,
        maxNewTokens: config.rollout.maxNewTokens,
        seed: (config.train.seed + EVALUATION_SEED_OFFSET) >>> 0,
        batchSize: Math.max(1, config.train.promptsPerStep * config.rollout.groupSize),
        stopStrings: config.rollout.stopStrings,
      },
      step,
    );
    await appendMetrics(metricsFile, record);
    log(formatEvaluationLine(record));
  };

  const totalSteps = config.train.steps;
  let skippedSteps = 0;
  let interrupted = false;
  try {
    if (config.train.evalEvery > 0 && step === 0) await evaluateNow();
    const loopStarted = performance.now();
    const firstStep = step;
    while (step < totalSteps) {
      if (stop.requested()) {
        interrupted = true;
        break;
      }
      const examples = lookahead?.examples ?? run.data.train.next(config.train.promptsPerStep);
      const seed = lookahead?.seed ?? random.nextUint32();
      lookahead = undefined;
      const source = run.rolloutSource;
      if (source?.schedule !== undefined && (config.rollout.async ?? 0) > 0 && step + 1 < totalSteps) {
        const dataCursor = run.data.train.state();
        const randomState = random.state;
        lookahead = {
          examples: run.data.train.next(config.train.promptsPerStep),
          seed: random.nextUint32(),
          dataCursor,
          randomState,
        };
        source.schedule(
          uniqueRequests(lookahead.examples),
          rolloutGenerationOptions(config.rollout, lookahead.seed),
          {
            step: step + 1,
          },
        );
      }
      const { record } = await runTrainingStep(
        {
          policy,
          objective: run.objective,
          verifier: run.verifier,
          optimizer,
          rollout: config.rollout,
          optimizerConfig: config.optimizer,
          microBatchSize: config.train.microBatchSize,
          useReference: run.useReference,
          ...(run.rolloutSource === undefined ? {} : { rolloutSource: run.rolloutSource }),
        },
        { step, totalSteps, examples, seed, lr: learningRateAt(config.optimizer, step, totalSteps) },
      );
      step += 1;
      await appendMetrics(metricsFile, record);
      progress(
        formatProgressLine(record, totalSteps, (performance.now() - loopStarted) / 1000 / (step - firstStep)),
      );
      if (record.skipped) {
        skippedSteps += 1;
        consecutiveNonFinite += 1;
        log(`step ${step}: update skipped (${record.skipReason}); ${consecutiveNonFinite} in a row`);
        if (consecutiveNonFinite >= config.train.maxConsecutiveNonFinite)
          throw new NonFiniteTrainingError({
            step,
            consecutive: consecutiveNonFinite,
            reason: record.skipReason ?? "non-finite",
          });
      } else consecutiveNonFinite = 0;
      if (config.train.evalEvery > 0 && step % config.train.evalEvery === 0 && step < totalSteps)
        await evaluateNow();
      // No periodic checkpoint in the middle of a non-finite streak: the next good step saves.
      if (config.train.saveEvery > 0 && step % config.train.saveEvery === 0 && consecutiveNonFinite === 0)
        await checkpoint();
    }
    if (lastCheckpoint?.step !== step) await checkpoint();
    if (!interrupted && config.train.evalEvery > 0) await evaluateNow();
  } finally {
    stop.release();
    optimizer.dispose();
  }

  const summary: TrainingSummary = {
    runDir: runDirectory,
    objective: run.objective.name,
    policy: policy.name,
    backend: run.backend ?? null,
    steps: step,
    plannedSteps: totalSteps,
    interrupted,
    skippedSteps,
    ...(await heldOutAccuracies(metricsFile)),
    wallSeconds: (performance.now() - started) / 1000,
    lastCheckpoint: lastCheckpoint?.path ?? null,
    resumedFrom,
    skippedDataRows: run.data.skipped ?? 0,
  };
  await writeFile(join(runDirectory, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  const report = await writeReport(runDirectory, { ...summary });
  log(`report: ${report}`);
  return summary;
};
