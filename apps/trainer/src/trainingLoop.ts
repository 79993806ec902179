import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { assertSpecificationVersion, UnsupportedSpecificationError } from "@apo-rl/core";
import { createObjective } from "@apo-rl/objectives";
import { AdamW } from "./AdamW.js";
import type { BatchVerifier } from "./BatchVerifier.js";
import {
  type CheckpointLocation,
  latestCheckpoint,
  loadTrainingCheckpoint,
  readCheckpointConfig,
  removeStaleTemporaries,
  saveTrainingCheckpoint,
  type TrainerState,
} from "./checkpoint.js";
import { CheckpointError, NonFiniteTrainingError, PreflightError } from "./errors.js";
import { evaluate } from "./evaluation.js";
import { SeededRandom } from "./internal/random.js";
import { readCheckpointJson } from "./internal/readCheckpointJson.js";
import { learningRateAt } from "./learningRate.js";
import type { EvaluationRecord } from "./metrics.js";
import { appendMetrics, truncateMetrics } from "./metricsLog.js";
import { createRunDirectory, directorySize, preflight } from "./preflight.js";
import { formatEvaluationLine, formatProgressLine } from "./progress.js";
import { EVALUATION_SEED_OFFSET, usesReferenceAtAnyStep } from "./referenceUse.js";
import { readMetrics, writeReport } from "./report.js";
import { checkResumeConfig } from "./resumeConfigCheck.js";
import type { RolloutSource } from "./rollout/RolloutSource.js";
import { rolloutGenerationOptions } from "./rollout/rolloutGenerationOptions.js";
import { acquireRunLock } from "./runLock.js";
import { uniqueRequests } from "./scoring.js";
import { drawUsableExamples, skippedRowRecord } from "./skippedRows.js";
import type { TensorObjective, TrainablePolicy } from "./TrainablePolicy.js";
import type { TrainerConfig } from "./TrainerConfig.js";
import type { TrainingData, TrainingExample } from "./TrainingData.js";
import { runTrainingStep } from "./trainingStep.js";

export { usesReferenceAtAnyStep } from "./referenceUse.js";

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
  /**
   * With `resume`: accept config changes that alter the training trajectory (objective, seed, data,
   * optimizer, …); they are logged. Default false: such changes are refused, listing each.
   */
  readonly allowConfigChange?: boolean;
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
  /**
   * Dataset rows left out before the first step: invalid rows with `--skip-invalid`, and held-out
   * rows whose images do not decode.
   */
  readonly skippedDataRows: number;
  /** Rows skipped when drawn for a step (an image that does not decode), over the whole run. */
  readonly skippedDrawnRows: number;
}

const stderrLine = (line: string) => {
  process.stderr.write(`${line}\n`);
};

/**
 * Whether the objective of `config.objective` (built from the registry) uses a reference at any
 * step of the run.
 *
 * @since 0.1.0
 * @category training
 */
export const objectiveUsesReference = (config: TrainerConfig): boolean =>
  usesReferenceAtAnyStep(
    createObjective(config.objective.name, config.objective.options),
    config.train.steps,
  );

const prepareRunDirectory = async (runDirectory: string, checkpoints: string, resume: boolean) => {
  await mkdir(checkpoints, { recursive: true }).catch((cause: NodeJS.ErrnoException) => {
    throw new PreflightError({
      path: checkpoints,
      reason: `cannot create the checkpoints directory (${cause.code ?? cause.message})`,
    });
  });
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

/** The newest checkpoint to resume from; an error when there is none. */
const checkpointToResume = async (checkpoints: string): Promise<CheckpointLocation> => {
  const location = await latestCheckpoint(checkpoints);
  if (location === undefined)
    throw new CheckpointError({
      path: checkpoints,
      reason: "--resume given but there is no complete checkpoint",
    });
  return location;
};

/**
 * Compare the config with the one the checkpoint was written with (its `trainer-config.json`, else
 * the run's `config.json` of older checkpoints) before `config.json` is overwritten.
 */
const checkConfigAgainstCheckpoint = async (
  location: CheckpointLocation,
  runDirectory: string,
  config: TrainerConfig,
  allowChange: boolean,
  log: (line: string) => void,
) => {
  const saved =
    (await readCheckpointConfig(location)) ??
    (await readCheckpointJson(join(runDirectory, "config.json")).then(
      (value) => ({ path: join(runDirectory, "config.json"), config: value }),
      () => undefined,
    ));
  if (saved === undefined) {
    log(`resume: ${location.path} has no saved config to compare with`);
    return;
  }
  checkResumeConfig({
    saved: saved.config,
    current: config,
    checkpointStep: location.step,
    allowChange,
    source: saved.path,
    log,
  });
};

/** Restore policy, optimizer and data cursor from a checkpoint; returns its trainer state. */
const resumeFrom = async (
  location: CheckpointLocation,
  run: TrainingRun,
  optimizer: AdamW,
  log: (line: string) => void,
): Promise<TrainerState> => {
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

/**
 * The held-out examples whose images fully decode (evaluated every time, so checked once here).
 * On a fresh start, the rows skipped at load and here are logged as `skipped-row` events.
 */
const usableHeldOut = async (
  run: TrainingRun,
  metricsFile: string,
  fresh: boolean,
  log: (line: string) => void,
) => {
  if (fresh)
    for (const skipped of run.data.skippedRows ?? [])
      await appendMetrics(metricsFile, { kind: "skipped-row", step: 0, phase: "load", ...skipped });
  const check = run.data.checkExample;
  if (check === undefined) return { examples: run.data.heldOut, skipped: 0 };
  const examples: Array<TrainingExample> = [];
  let skipped = 0;
  for (const example of run.data.heldOut) {
    const reason = check(example);
    if (reason === undefined) {
      examples.push(example);
      continue;
    }
    skipped += 1;
    log(`held-out: skipped ${example.request.promptId}: ${reason}`);
    if (fresh) await appendMetrics(metricsFile, skippedRowRecord(0, "held-out", example, reason));
  }
  return { examples, skipped };
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
 * The training loop over built components: the run-directory lock, resume (with its config check),
 * preflight checks, steps with metrics, periodic evaluation and checkpoints, NaN/Inf guarding,
 * signals, and at the end a checkpoint, `report.html` and `summary.json`.
 *
 * @since 0.1.0
 * @category training
 */
export const runTrainingLoop = async (
  run: TrainingRun,
  options: TrainingLoopOptions = {},
): Promise<TrainingSummary> => {
  assertSpecificationVersion("PolicyV1", run.policy);
  if (run.objective.specificationVersion !== "v2")
    throw new UnsupportedSpecificationError({
      contract: "Objective",
      found: String(run.objective.specificationVersion),
      reason:
        "the trainer computes advantages once per step and needs ObjectiveV2 (advantages + microBatchLoss)",
    });
  await createRunDirectory(run.config.output.runDir);
  const lock = await acquireRunLock(run.config.output.runDir, options.log ?? stderrLine);
  try {
    return await runLockedTrainingLoop(run, options);
  } finally {
    await lock.release();
  }
};

/** Bytes one checkpoint takes: the newest one's size, else 12 bytes per trainable parameter. */
const checkpointBytes = async (checkpoints: string, policy: TrainablePolicy): Promise<number> => {
  const newest = await latestCheckpoint(checkpoints);
  if (newest !== undefined) return directorySize(newest.path);
  const parameters = policy.trainableParameters().reduce((sum, parameter) => sum + parameter.size, 0);
  // float32 weights + the two AdamW moments.
  return 12 * parameters;
};

const runLockedTrainingLoop = async (
  run: TrainingRun,
  options: TrainingLoopOptions,
): Promise<TrainingSummary> => {
  const started = performance.now();
  const { config, policy } = run;
  const log = options.log ?? stderrLine;
  const progress = options.progress ?? stderrLine;
  const runDirectory = config.output.runDir;
  const checkpoints = join(runDirectory, "checkpoints");
  const metricsFile = join(runDirectory, "metrics.jsonl");
  await prepareRunDirectory(runDirectory, checkpoints, options.resume === true);
  const resumeLocation = options.resume === true ? await checkpointToResume(checkpoints) : undefined;
  if (resumeLocation !== undefined)
    await checkConfigAgainstCheckpoint(
      resumeLocation,
      runDirectory,
      config,
      options.allowConfigChange === true,
      log,
    );
  await preflight({ runDirectory, checkpoints, checkpointBytes: await checkpointBytes(checkpoints, policy) });
  const resolved = `${JSON.stringify(config, null, 2)}\n`;
  await writeFile(join(runDirectory, "config.json"), resolved);
  log(`resolved config (saved to ${join(runDirectory, "config.json")}):\n${resolved}`);
  if ((run.data.skipped ?? 0) > 0) log(`skipped ${run.data.skipped} invalid dataset rows (--skip-invalid)`);
  const heldOut = await usableHeldOut(run, metricsFile, resumeLocation === undefined, log);

  const optimizer = new AdamW(policy.trainableParameters(), {
    betas: config.optimizer.betas,
    eps: config.optimizer.eps,
    weightDecay: config.optimizer.weightDecay,
  });
  const random = new SeededRandom(config.train.seed);
  let step = 0;
  let consecutiveNonFinite = 0;
  let resumedFrom: number | null = null;
  if (resumeLocation !== undefined) {
    const state = await resumeFrom(resumeLocation, run, optimizer, log);
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
      config,
    });
    log(`checkpoint written: ${lastCheckpoint.path}`);
  };
  const evaluateOnServers = run.rolloutSource?.evaluate?.bind(run.rolloutSource);
  const evaluateNow = async () => {
    if (heldOut.examples.length === 0) return;
    // With rollout servers the held-out prompts are sampled on them, in parallel, once they are up:
    // while spawned servers still start (the step-0 evaluation) this process evaluates instead of
    // waiting for them (greedy by default, so the same answers either way).
    const onServers = evaluateOnServers !== undefined && run.rolloutSource?.ready?.() !== false;
    const record = await evaluate(
      policy,
      run.verifier,
      heldOut.examples,
      {
        temperature: config.train.evalTemperature,
        maxNewTokens: config.rollout.maxNewTokens,
        seed: (config.train.seed + EVALUATION_SEED_OFFSET) >>> 0,
        batchSize: Math.max(1, config.train.promptsPerStep * config.rollout.groupSize),
        stopStrings: config.rollout.stopStrings,
        ...(onServers
          ? { generate: (requests, generation) => evaluateOnServers(requests, generation, { step }) }
          : {}),
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
      const draw = (forStep: number) =>
        drawUsableExamples(
          run.data.train,
          config.train.promptsPerStep,
          run.data.checkExample,
          async (example, reason) => {
            const record = skippedRowRecord(forStep, "draw", example, reason);
            await appendMetrics(metricsFile, record);
            log(
              `step ${forStep}: skipped row ${record.file ?? ""}${record.row === undefined ? "" : `:${record.row}`} (${record.promptId}): ${reason}`,
            );
          },
        );
      const examples = lookahead?.examples ?? (await draw(step + 1));
      const seed = lookahead?.seed ?? random.nextUint32();
      lookahead = undefined;
      const source = run.rolloutSource;
      if (source?.schedule !== undefined && (config.rollout.async ?? 0) > 0 && step + 1 < totalSteps) {
        const dataCursor = run.data.train.state();
        const randomState = random.state;
        lookahead = {
          examples: await draw(step + 2),
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
          maxTokensPerMicroBatch: config.train.maxTokensPerMicroBatch,
          ppoEpochs: config.train.ppoEpochs,
          miniBatchesPerStep: config.train.miniBatchesPerStep,
          useReference: run.useReference,
          ...(run.rolloutSource === undefined ? {} : { rolloutSource: run.rolloutSource }),
        },
        { step, totalSteps, examples, seed, lr: learningRateAt(config.optimizer, step, totalSteps) },
      );
      step += 1;
      // The weights after this update go to the rollout servers while the step is logged.
      if (step < totalSteps || config.train.evalEvery > 0) run.rolloutSource?.prepare?.({ step });
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
    skippedDataRows: (run.data.skipped ?? 0) + heldOut.skipped,
    skippedDrawnRows: (await readMetrics(metricsFile)).filter(
      (record) => record.kind === "skipped-row" && record.phase === "draw",
    ).length,
  };
  await writeFile(join(runDirectory, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  const report = await writeReport(runDirectory, { ...summary });
  log(`report: ${report}`);
  return summary;
};
