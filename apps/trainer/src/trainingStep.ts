import type { PolicyBatch, Rollout } from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import type { AdamW } from "./AdamW.js";
import type { BatchVerifier } from "./BatchVerifier.js";
import { clipByGlobalNorm } from "./gradientClipping.js";
import { mechanismMetrics } from "./mechanismMetrics.js";
import { headlineMetric, rolloutStatistics, type TrainStepRecord } from "./metrics.js";
import { groupRollouts, type ScoredGroup, scoreGroups, uniqueRequests } from "./scoring.js";
import type { TensorObjective, TrainablePolicy } from "./TrainablePolicy.js";
import type { TrainerConfig } from "./TrainerConfig.js";
import type { TrainingExample } from "./TrainingData.js";

/**
 * What one training step works with.
 *
 * @since 0.1.0
 * @category training
 */
export interface TrainingStepServices {
  readonly policy: TrainablePolicy;
  readonly objective: TensorObjective;
  readonly verifier: BatchVerifier;
  readonly optimizer: AdamW;
  readonly rollout: TrainerConfig["rollout"];
  readonly optimizerConfig: TrainerConfig["optimizer"];
  readonly microBatchSize: number;
  /** Whether to compute reference log-probs (`logpRef`) for the objective's KL term. */
  readonly useReference: boolean;
}

/**
 * Where the step is: `step` is 0-based, `seed` seeds the sampler.
 *
 * @since 0.1.0
 * @category training
 */
export interface TrainingStepInput {
  readonly step: number;
  readonly totalSteps: number;
  readonly examples: ReadonlyArray<TrainingExample>;
  readonly seed: number;
  readonly lr: number;
}

/**
 * The result of one step: its metrics and the scored groups it trained on.
 *
 * @since 0.1.0
 * @category training
 */
export interface TrainingStepResult {
  readonly record: TrainStepRecord;
  readonly groups: ReadonlyArray<ScoredGroup>;
}

/** `[S, T]` tensor of the rollouts' sampling log-probs, zero-padded to `length`. */
const paddedLogprobs = (rollouts: ReadonlyArray<Rollout>, length: number): tf.Tensor2D => {
  const values = new Float32Array(rollouts.length * length);
  rollouts.forEach((rollout, row) => {
    values.set(rollout.logprobs.slice(0, length), row * length);
  });
  return tf.tensor2d(values, [rollouts.length, length]);
};

const maskedMean = (values: tf.Tensor, mask: tf.Tensor): number =>
  tf.tidy(() => tf.div(tf.sum(tf.mul(values, mask)), tf.maximum(tf.sum(mask), 1)).dataSync()[0]!);

/** k3 estimate of KL(π ‖ π_ref): exp(d) − d − 1 with d = logp_ref − logp. */
const k3 = (logp: tf.Tensor, logpRef: tf.Tensor): tf.Tensor =>
  tf.tidy(() => {
    const difference = tf.sub(logpRef, logp);
    return tf.sub(tf.sub(tf.exp(difference), difference), 1);
  });

interface MicroBatchOutcome {
  readonly loss: number;
  readonly gradients: tf.NamedTensorMap;
  readonly metrics: Readonly<Record<string, number>>;
  readonly kl: number | null;
  readonly entropy: number | null;
}

const microBatchGradients = (
  services: TrainingStepServices,
  input: TrainingStepInput,
  groups: ReadonlyArray<ScoredGroup>,
  weight: number,
): MicroBatchOutcome => {
  const samples = groups.flatMap((group) => group.rollouts);
  const batch: PolicyBatch = {
    requests: groups.map((group) => group.example.request),
    rollouts: samples.map((sample) => sample.rollout),
    temperature: services.rollout.temperature,
  };
  let metrics: Readonly<Record<string, number>> = {};
  let kl: number | null = null;
  let entropy: number | null = null;
  const parameters = [...services.policy.trainableParameters()];
  // Reference log-probs are computed outside the gradient tape: they are constants of the loss.
  const logpRef = services.useReference
    ? tf.tidy(() => services.policy.logprobs(batch, { reference: true }).logp)
    : undefined;
  const { value, grads } = tf.variableGrads(() => {
    const current = services.policy.logprobs(batch);
    const length = current.logp.shape[1]!;
    const logpOld = paddedLogprobs(batch.rollouts, length);
    const output = services.objective.loss(
      {
        logp: current.logp,
        logpOld,
        ...(logpRef === undefined ? {} : { logpRef }),
        mask: current.mask,
        rewards: samples.map((sample) => sample.reward),
        correct: samples.map((sample) => sample.correct),
        lengths: batch.rollouts.map((rollout) => rollout.tokenIds.length),
        groupSize: services.rollout.groupSize,
      },
      { step: input.step, totalSteps: input.totalSteps },
    );
    metrics = output.metrics;
    if (logpRef !== undefined) kl = maskedMean(k3(current.logp, logpRef), current.mask);
    if (current.entropy !== undefined) entropy = maskedMean(current.entropy, current.mask);
    // `+ 0 · Σ logp` keeps the loss connected to the parameters even when an objective returns a
    // constant (e.g. every group has equal rewards and no KL term): its gradient is then exactly 0.
    return tf.add(tf.mul(output.loss, weight), tf.mul(tf.sum(current.logp), 0)) as tf.Scalar;
  }, parameters);
  const loss = value.dataSync()[0]!;
  value.dispose();
  logpRef?.dispose();
  return { loss, gradients: grads, metrics, kl, entropy };
};

const averageRecords = (records: ReadonlyArray<Readonly<Record<string, number>>>): Record<string, number> => {
  const totals: Record<string, { sum: number; count: number }> = {};
  for (const record of records)
    for (const [key, value] of Object.entries(record)) {
      const total = totals[key] ?? { sum: 0, count: 0 };
      totals[key] = { sum: total.sum + value, count: total.count + 1 };
    }
  return Object.fromEntries(Object.entries(totals).map(([key, total]) => [key, total.sum / total.count]));
};

const meanOf = (values: ReadonlyArray<number | null>): number | null => {
  const present = values.filter((value): value is number => value !== null);
  return present.length === 0 ? null : present.reduce((sum, value) => sum + value, 0) / present.length;
};

/**
 * One training step: sample `groupSize` responses per prompt, verify them, compute the objective's
 * loss over micro-batches of whole groups with gradient accumulation (each micro-batch's loss
 * weighted by `1 / micro-batches`), clip by global norm and apply AdamW. A non-finite loss or
 * gradient norm skips the update (`record.skipped`), leaving weights and optimizer state untouched.
 *
 * @since 0.1.0
 * @category training
 */
export const runTrainingStep = async (
  services: TrainingStepServices,
  input: TrainingStepInput,
): Promise<TrainingStepResult> => {
  const started = performance.now();
  const requests = uniqueRequests(input.examples);
  const rollouts = await services.policy.generate(requests, {
    n: services.rollout.groupSize,
    temperature: services.rollout.temperature,
    topP: services.rollout.topP,
    ...(services.rollout.topK > 0 ? { topK: services.rollout.topK } : {}),
    maxNewTokens: services.rollout.maxNewTokens,
    ...(services.rollout.stopStrings.length > 0 ? { stopStrings: services.rollout.stopStrings } : {}),
    seed: input.seed,
  });
  const generationSeconds = (performance.now() - started) / 1000;
  const groups = await scoreGroups(
    input.examples,
    requests,
    groupRollouts(requests, rollouts, services.rollout.groupSize),
    services.verifier,
  );

  const microBatches: ScoredGroup[][] = [];
  for (let start = 0; start < groups.length; start += services.microBatchSize)
    microBatches.push(groups.slice(start, start + services.microBatchSize));
  const parameters = services.policy.trainableParameters();
  let accumulated: tf.Tensor[] | undefined;
  let loss = 0;
  const outcomes: MicroBatchOutcome[] = [];
  for (const microBatch of microBatches) {
    const outcome = microBatchGradients(services, input, microBatch, 1 / microBatches.length);
    const gradients = parameters.map((parameter) => {
      const gradient = outcome.gradients[parameter.name];
      return gradient ?? tf.zerosLike(parameter);
    });
    const previous = accumulated;
    accumulated =
      previous === undefined
        ? gradients
        : gradients.map((gradient, index) => tf.add(previous[index]!, gradient));
    if (previous !== undefined) tf.dispose([...previous, ...gradients]);
    loss += outcome.loss;
    outcomes.push(outcome);
  }

  const clipped = clipByGlobalNorm(accumulated ?? [], services.optimizerConfig.gradClip);
  tf.dispose(accumulated ?? []);
  const skipReason = !Number.isFinite(loss)
    ? `loss is ${loss}`
    : !Number.isFinite(clipped.norm)
      ? `gradient norm is ${clipped.norm}`
      : null;
  if (skipReason === null) services.optimizer.update(clipped.gradients, input.lr);
  tf.dispose([...clipped.gradients]);

  const stepSeconds = (performance.now() - started) / 1000;
  const statistics = rolloutStatistics(groups);
  const objective = averageRecords(outcomes.map((outcome) => outcome.metrics));
  const memory = tf.memory();
  return {
    groups,
    record: {
      kind: "train",
      step: input.step + 1,
      lr: input.lr,
      loss: Number.isFinite(loss) ? loss : null,
      gradNorm: Number.isFinite(clipped.norm) ? clipped.norm : null,
      kl: meanOf(outcomes.map((outcome) => outcome.kl)) ?? headlineMetric(objective, "kl"),
      entropy: meanOf(outcomes.map((outcome) => outcome.entropy)),
      clipFraction: headlineMetric(objective, "clipFraction"),
      dadsWeight: headlineMetric(objective, "dadsWeight"),
      stcrScale: headlineMetric(objective, "stcrScale"),
      ...statistics,
      // What DADS and STCR did this step (issue #18): see mechanismMetrics.ts.
      ...mechanismMetrics(outcomes.map((outcome) => outcome.metrics)),
      tokensPerSecond: statistics.generatedTokens / Math.max(stepSeconds, 1e-9),
      stepSeconds,
      generationSeconds,
      memoryBytes: memory.numBytes,
      numTensors: memory.numTensors,
      skipped: skipReason !== null,
      skipReason,
      objective,
    },
  };
};
