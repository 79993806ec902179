import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { AdamW } from "../AdamW.js";
import type { BatchVerifier } from "../BatchVerifier.js";
import { NonFiniteTrainingError } from "../errors.js";
import { evaluate } from "../evaluation.js";
import { clipByGlobalNorm } from "../gradientClipping.js";
import { learningRateAt } from "../learningRate.js";
import type { EvaluationRecord } from "../metrics.js";
import { formatEvaluationLine } from "../progress.js";
import type { TrainablePolicy } from "../TrainablePolicy.js";
import { samplerCursor, type TrainingExample } from "../TrainingData.js";
import type { SftConfig } from "./SftConfig.js";
import { type SftExample, sftBatch, sftLoss } from "./sftLoss.js";

/**
 * What an SFT run works with: the policy, the training and held-out prompts, how a prompt becomes
 * its supervised response, and the verifier of the held-out evaluation.
 *
 * @since 0.1.0
 * @category sft
 */
export interface SftRun {
  readonly config: SftConfig;
  readonly policy: TrainablePolicy;
  readonly train: ReadonlyArray<TrainingExample>;
  readonly heldOut: ReadonlyArray<TrainingExample>;
  readonly target: (example: TrainingExample) => SftExample;
  readonly verifier: BatchVerifier;
  /** Name of the tfjs backend in use (for the summary). */
  readonly backend?: string;
}

/**
 * One SFT step's record in `sft-metrics.jsonl`.
 *
 * @since 0.1.0
 * @category sft
 */
export interface SftStepRecord {
  readonly kind: "sft";
  /** 1-based: the number of updates taken after this step. */
  readonly step: number;
  readonly loss: number | null;
  readonly gradNorm: number | null;
  readonly lr: number;
  readonly tokens: number;
  readonly stepSeconds: number;
  readonly skipped: boolean;
}

/**
 * What an SFT run did; also written to `sft-summary.json` in the output directory.
 *
 * @since 0.1.0
 * @category sft
 */
export interface SftSummary {
  readonly outputDir: string;
  readonly policy: string;
  readonly backend: string | null;
  readonly steps: number;
  readonly examplesSeen: number;
  readonly firstLoss: number | null;
  readonly lastLoss: number | null;
  readonly heldOutAccuracyBefore: number | null;
  readonly heldOutAccuracyAfter: number | null;
  readonly heldOutFormatRateAfter: number | null;
  readonly wallSeconds: number;
}

const stderrLine = (line: string) => {
  process.stderr.write(`${line}\n`);
};

const EVALUATION_SEED = 7;
const MAX_CONSECUTIVE_NON_FINITE = 3;

/** The supervised update of one batch: loss, gradients, global-norm clipping, AdamW. */
const sftStep = async (
  run: SftRun,
  optimizer: AdamW,
  examples: ReadonlyArray<SftExample>,
  lr: number,
): Promise<{ loss: number; gradNorm: number }> => {
  const parameters = [...run.policy.trainableParameters()];
  const batch = sftBatch(examples);
  const { value, grads } = tf.variableGrads(() => sftLoss(run.policy, batch), parameters);
  const loss = (await value.data())[0]!;
  value.dispose();
  const gradients = parameters.map((parameter) => grads[parameter.name] ?? tf.zerosLike(parameter));
  const clipped = await clipByGlobalNorm(gradients, run.config.optimizer.gradClip);
  tf.dispose(gradients);
  if (Number.isFinite(loss) && Number.isFinite(clipped.norm)) optimizer.update(clipped.gradients, lr);
  tf.dispose([...clipped.gradients]);
  return { loss, gradNorm: clipped.norm };
};

const finiteOrNull = (value: number): number | null => (Number.isFinite(value) ? value : null);

/**
 * Supervised fine-tuning: `train.steps` AdamW updates (warm-up + cosine learning rate, global
 * gradient-norm clipping) of the mean response-token cross-entropy over batches of `batchSize`
 * examples drawn by a seeded shuffle; greedy held-out evaluation before, every `evalEvery` steps and
 * after. The policy is saved to `output.dir` (written to a temporary sibling and renamed into place)
 * with `sft-metrics.jsonl`, `sft-config.json` and `sft-summary.json`. A non-finite loss or gradient
 * skips the update; three in a row stop the run.
 *
 * @since 0.1.0
 * @category sft
 */
export const runSft = async (
  run: SftRun,
  options: { readonly log?: (line: string) => void } = {},
): Promise<SftSummary> => {
  const started = performance.now();
  const { config, policy } = run;
  const log = options.log ?? stderrLine;
  const outputDir = config.output.dir;
  const staging = join(dirname(outputDir), `.${basename(outputDir)}.tmp-${randomBytes(4).toString("hex")}`);
  await mkdir(staging, { recursive: true });
  const records: Array<SftStepRecord | EvaluationRecord> = [];
  const optimizer = new AdamW(policy.trainableParameters(), {
    betas: config.optimizer.betas,
    eps: config.optimizer.eps,
    weightDecay: config.optimizer.weightDecay,
  });
  const evaluateAt = async (step: number): Promise<EvaluationRecord | undefined> => {
    if (run.heldOut.length === 0) return undefined;
    const record = await evaluate(
      policy,
      run.verifier,
      run.heldOut,
      {
        temperature: 0,
        maxNewTokens: config.train.maxNewTokens,
        seed: EVALUATION_SEED,
        batchSize: Math.max(run.heldOut.length, 1),
      },
      step,
    );
    records.push(record);
    log(formatEvaluationLine(record));
    return record;
  };

  try {
    const before = await evaluateAt(0);
    const sampler = samplerCursor(run.train, config.train.seed);
    let consecutiveNonFinite = 0;
    const losses: number[] = [];
    for (let step = 0; step < config.train.steps; step++) {
      const stepStarted = performance.now();
      const examples = sampler.next(config.train.batchSize).map(run.target);
      const lr = learningRateAt(config.optimizer, step, config.train.steps);
      const { loss, gradNorm } = await sftStep(run, optimizer, examples, lr);
      const skipped = !Number.isFinite(loss) || !Number.isFinite(gradNorm);
      records.push({
        kind: "sft",
        step: step + 1,
        loss: finiteOrNull(loss),
        gradNorm: finiteOrNull(gradNorm),
        lr,
        tokens: examples.reduce((sum, example) => sum + example.responseIds.length, 0),
        stepSeconds: (performance.now() - stepStarted) / 1000,
        skipped,
      });
      if (skipped) {
        consecutiveNonFinite += 1;
        log(`sft step ${step + 1}: update skipped (loss ${loss}, gradient norm ${gradNorm})`);
        if (consecutiveNonFinite >= MAX_CONSECUTIVE_NON_FINITE)
          throw new NonFiniteTrainingError({
            step: step + 1,
            consecutive: consecutiveNonFinite,
            reason: `loss ${loss}, gradient norm ${gradNorm}`,
          });
        continue;
      }
      consecutiveNonFinite = 0;
      losses.push(loss);
      log(
        `sft step ${step + 1}/${config.train.steps}  loss ${loss.toFixed(4)}  lr ${lr.toExponential(2)}  ${((performance.now() - stepStarted) / 1000).toFixed(2)}s`,
      );
      const done = step + 1;
      if (config.train.evalEvery > 0 && done % config.train.evalEvery === 0 && done < config.train.steps)
        await evaluateAt(done);
      if (config.train.saveEvery > 0 && done % config.train.saveEvery === 0 && done < config.train.steps) {
        await policy.save(`${outputDir}-step${done}`);
        log(`intermediate checkpoint written: ${outputDir}-step${done}`);
      }
    }
    const after = await evaluateAt(config.train.steps);
    await policy.save(staging);
    const summary: SftSummary = {
      outputDir,
      policy: policy.name,
      backend: run.backend ?? null,
      steps: config.train.steps,
      examplesSeen: config.train.steps * config.train.batchSize,
      firstLoss: losses[0] ?? null,
      lastLoss: losses.at(-1) ?? null,
      heldOutAccuracyBefore: before?.accuracy ?? null,
      heldOutAccuracyAfter: after?.accuracy ?? null,
      heldOutFormatRateAfter: after?.formatRate ?? null,
      wallSeconds: (performance.now() - started) / 1000,
    };
    await writeFile(
      join(staging, "sft-metrics.jsonl"),
      records.map((record) => `${JSON.stringify(record)}\n`).join(""),
    );
    await writeFile(join(staging, "sft-config.json"), `${JSON.stringify(config, null, 2)}\n`);
    await writeFile(join(staging, "sft-summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
    await rm(outputDir, { recursive: true, force: true });
    await mkdir(dirname(outputDir), { recursive: true });
    await rename(staging, outputDir);
    log(`SFT checkpoint written: ${outputDir}`);
    return summary;
  } finally {
    optimizer.dispose();
    await rm(staging, { recursive: true, force: true });
  }
};
