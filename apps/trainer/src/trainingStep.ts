import type { ObjectiveContext, PolicyBatch, Rollout, StepSamples, StepTotals } from "@apo-rl/core";
import { klShareOfLoss, selectSamples, stepTotals } from "@apo-rl/objectives";
import * as tf from "@tensorflow/tfjs-core";
import type { BatchVerifier } from "./BatchVerifier.js";
import type { InMemoryAdamW } from "./InMemoryAdamW.js";
import { mechanismMetrics } from "./mechanismMetrics.js";
import { headlineMetric, rolloutStatistics, type TrainStepRecord } from "./metrics.js";
import { inProcessRolloutSource, type RolloutSource } from "./rollout/RolloutSource.js";
import { rolloutGenerationOptions } from "./rollout/rolloutGenerationOptions.js";
import { groupRollouts, type ScoredGroup, scoreGroups, uniqueRequests } from "./scoring.js";
import { accumulateGradients, applyUpdate } from "./step/gradientStep.js";
import { planMicroBatches, splitRows } from "./step/microBatches.js";
import { PhaseClock, type StepHooks } from "./step/phases.js";
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
  readonly optimizer: InMemoryAdamW;
  readonly rollout: TrainerConfig["rollout"];
  readonly optimizerConfig: TrainerConfig["optimizer"];
  /**
   * Padded response tokens (`rows × longest row`) per forward/backward pass; groups may be split.
   * Also bounds the reference pass. Default: every row of a mini-batch at once.
   */
  readonly maxTokensPerMicroBatch?: number | undefined;
  /** Passes over the step's rollouts (PPO epochs); default 1. */
  readonly ppoEpochs?: number | undefined;
  /** Optimizer updates per epoch, each on a contiguous share of the rows; default 1. */
  readonly miniBatchesPerStep?: number | undefined;
  /**
   * Whether the policy has a reference to compute `logpRef` with. The step computes it only when the
   * objective's `usesReference` also says so at this step.
   */
  readonly useReference: boolean;
  /** Per-phase hooks (timing, inspection). */
  readonly hooks?: StepHooks | undefined;
  /** Where the rollouts come from (default: `policy.generate` in this process). */
  readonly rolloutSource?: RolloutSource | undefined;
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

/** `[R, T]` tensor of the rollouts' sampling log-probs, zero-padded to `length`. */
const paddedLogprobs = (rollouts: ReadonlyArray<Rollout>, length: number): tf.Tensor2D => {
  const values = new Float32Array(rollouts.length * length);
  rollouts.forEach((rollout, row) => {
    values.set(rollout.logprobs.slice(0, length), row * length);
  });
  return tf.tensor2d(values, [rollouts.length, length]);
};

interface PlannedMicroBatch {
  readonly rows: ReadonlyArray<number>;
  readonly batch: PolicyBatch;
}

/** The rows of the step as one micro-batch's `PolicyBatch` (requests of the prompts they answer). */
const batchOf = (
  rows: ReadonlyArray<number>,
  rollouts: ReadonlyArray<Rollout>,
  requests: ReadonlyArray<PolicyBatch["requests"][number]>,
  temperature: number,
): PolicyBatch => {
  const selected = rows.map((row) => rollouts[row]!);
  const prompts = new Set(selected.map((rollout) => rollout.promptId));
  return {
    requests: requests.filter((request) => prompts.has(request.promptId)),
    rollouts: selected,
    temperature,
  };
};

/** An update: its rows, their micro-batches and the totals every micro-batch normalises by. */
interface PlannedUpdate {
  readonly totals: StepTotals;
  readonly microBatches: ReadonlyArray<PlannedMicroBatch>;
}

const planUpdates = (
  rollouts: ReadonlyArray<Rollout>,
  requests: ReadonlyArray<PolicyBatch["requests"][number]>,
  services: TrainingStepServices,
): ReadonlyArray<PlannedUpdate> => {
  const lengths = rollouts.map((rollout) => rollout.tokenIds.length);
  return splitRows(rollouts.length, services.miniBatchesPerStep ?? 1).map((rows) => {
    const plan = planMicroBatches(
      rows.map((row) => lengths[row]!),
      services.maxTokensPerMicroBatch,
    );
    return {
      totals: stepTotals(rows.map((row) => lengths[row]!)),
      microBatches: plan.map((positions) => {
        const selected = positions.map((position) => rows[position]!);
        return {
          rows: selected,
          batch: batchOf(selected, rollouts, requests, services.rollout.temperature),
        };
      }),
    };
  });
};

/**
 * Scalars to read after the backward passes, summed per metric name (each micro-batch reports its
 * share of the step's value); a name ending in `Max` is a maximum over micro-batches instead.
 */
class MetricSums {
  private readonly pending: Array<{ readonly key: string; readonly tensor: tf.Tensor }> = [];

  add(key: string, tensor: tf.Tensor): void {
    this.pending.push({ key, tensor: tf.keep(tensor) });
  }

  async read(): Promise<Record<string, number>> {
    const unique = [...new Set(this.pending.map((entry) => entry.tensor))];
    const values = new Map<tf.Tensor, number>();
    await Promise.all(
      unique.map(async (tensor) => {
        values.set(tensor, (await tensor.data())[0] ?? 0);
      }),
    );
    tf.dispose(unique);
    const sums: Record<string, number> = {};
    for (const { key, tensor } of this.pending) {
      const value = values.get(tensor)!;
      sums[key] = key.endsWith("Max") ? Math.max(sums[key] ?? -Infinity, value) : (sums[key] ?? 0) + value;
    }
    this.pending.length = 0;
    return sums;
  }
}

/** The key under which the step sums the policy's own entropy (apart from the objective's metrics). */
const POLICY_ENTROPY = "@apo-rl/trainer/policyEntropy";

const averageRecords = (records: ReadonlyArray<Readonly<Record<string, number>>>): Record<string, number> => {
  const totals: Record<string, { sum: number; count: number }> = {};
  for (const record of records)
    for (const [key, value] of Object.entries(record)) {
      const total = totals[key] ?? { sum: 0, count: 0 };
      totals[key] = { sum: total.sum + value, count: total.count + 1 };
    }
  return Object.fromEntries(Object.entries(totals).map(([key, total]) => [key, total.sum / total.count]));
};

/**
 * One training step, the only implementation of the RL step (the trainer, `apo-train sft` through
 * its shared phases, and `apo-bench perf train-step` through its hooks use it). Phases:
 * 1. `rollout`: `groupSize` responses per prompt;
 * 2. `score`: verify them;
 * 3. `advantages`: the objective's per-sample advantages and weights, once, on the whole batch;
 * 4. `reference`: reference log-probs per micro-batch, when the policy has a reference and the
 *    objective uses it at this step;
 * 5. `oldLogprobs`: the sampling log-probs of the rollouts (the old policy of the clipped ratio);
 * 6. `lossBackward`: per micro-batch, the objective's loss normalised by the update's token and
 *    sequence counts, with the gradients summed — so any `maxTokensPerMicroBatch` gives the
 *    gradient of the unsplit batch;
 * 7. `update`: global-norm clipping and AdamW. A non-finite loss or gradient norm skips the update
 *    (`record.skipped`).
 * With `ppoEpochs` × `miniBatchesPerStep` > 1, phases 6–7 repeat per update over the same
 * rollouts, advantages and old log-probs.
 *
 * @since 0.1.0
 * @category training
 */
export const runTrainingStep = async (
  services: TrainingStepServices,
  input: TrainingStepInput,
): Promise<TrainingStepResult> => {
  const { policy, objective } = services;
  const clock = new PhaseClock(services.hooks, input.step);
  const context: ObjectiveContext = { step: input.step, totalSteps: input.totalSteps };
  let planned: ReadonlyArray<PlannedUpdate> = [];
  const plannedBatches = () => planned.flatMap((update) => update.microBatches.map((micro) => micro.batch));

  const requests = uniqueRequests(input.examples);
  const rolloutSource =
    services.rolloutSource ??
    inProcessRolloutSource(policy, { referenceInRollout: services.rollout.referenceInRollout });
  const useReference = services.useReference && objective.usesReference(context);
  const generated = await clock.run("rollout", plannedBatches, () =>
    rolloutSource.generate(requests, rolloutGenerationOptions(services.rollout, input.seed), {
      step: input.step,
      reference: useReference,
    }),
  );
  const rollouts = generated.rollouts;
  const generationSeconds = clock.elapsed();
  const groups = await clock.run("score", plannedBatches, () =>
    scoreGroups(
      input.examples,
      requests,
      groupRollouts(requests, rollouts, services.rollout.groupSize),
      services.verifier,
    ),
  );
  const samples = groups.flatMap((group) => group.rollouts);
  const ordered = samples.map((sample) => sample.rollout);

  const stepSamples: StepSamples = await clock.run("advantages", plannedBatches, () => {
    const computed = objective.advantages(
      {
        rewards: samples.map((sample) => sample.reward),
        correct: samples.map((sample) => sample.correct),
        lengths: ordered.map((rollout) => rollout.tokenIds.length),
        groupSize: services.rollout.groupSize,
      },
      context,
    );
    planned = planUpdates(ordered, requests, services);
    return computed;
  });

  const microBatches = planned.flatMap((update) => update.microBatches);
  const served = generated.referenceLogprobs;
  /** The source's reference log-probs of a micro-batch's rows, zero-padded to `length`. */
  const servedReference = (rows: ReadonlyArray<Rollout>, length: number) =>
    paddedLogprobs(
      rows.map((rollout) => ({ ...rollout, logprobs: served![rollouts.indexOf(rollout)]! })),
      length,
    );
  const references = await clock.run("reference", plannedBatches, async () => {
    if (!useReference) return microBatches.map(() => undefined);
    // Scored with the rollouts (servers with the initial weights, or a LoRA policy's twin rows):
    // the reference pass's numbers up to float rounding.
    if (served !== undefined && served.length === rollouts.length)
      return microBatches.map((micro) =>
        servedReference(
          micro.batch.rollouts,
          Math.max(...micro.batch.rollouts.map((rollout) => rollout.tokenIds.length), 0),
        ),
      );
    const computed: tf.Tensor[] = [];
    for (const micro of microBatches)
      computed.push(tf.tidy(() => policy.logprobs(micro.batch, { reference: true }).logp));
    return computed;
  });
  const olds = await clock.run("oldLogprobs", plannedBatches, () =>
    microBatches.map((micro) =>
      paddedLogprobs(
        micro.batch.rollouts,
        Math.max(...micro.batch.rollouts.map((rollout) => rollout.tokenIds.length), 0),
      ),
    ),
  );

  const parameters = policy.trainableParameters();
  const updateMetrics: Array<Record<string, number>> = [];
  let loss = 0;
  let gradNorm = 0;
  let skipReason: string | null = null;
  let entropy: number | null = null;
  try {
    for (let epoch = 0; epoch < (services.ppoEpochs ?? 1); epoch++) {
      let offset = 0;
      for (const update of planned) {
        const first = offset;
        offset += update.microBatches.length;
        const sums = new MetricSums();
        let sawEntropy = false;
        const accumulated = await clock.run("lossBackward", plannedBatches, () =>
          accumulateGradients(parameters, update.microBatches.length, (index) => {
            const micro = update.microBatches[index]!;
            const current = policy.logprobs(micro.batch);
            const reference = references[first + index];
            const logpRef =
              reference === undefined || served === undefined || reference.shape[1] === current.logp.shape[1]
                ? reference
                : servedReference(micro.batch.rollouts, current.logp.shape[1]!);
            const old = olds[first + index]!;
            const logpOld =
              old.shape[1] === current.logp.shape[1]
                ? old
                : paddedLogprobs(micro.batch.rollouts, current.logp.shape[1]!);
            const output = objective.microBatchLoss(
              {
                logp: current.logp,
                logpOld,
                ...(logpRef === undefined ? {} : { logpRef }),
                mask: current.mask,
                ...(current.entropy === undefined ? {} : { entropy: current.entropy }),
                samples: selectSamples(stepSamples.perSample, micro.rows) as StepSamples["perSample"],
                totals: update.totals,
              },
              context,
            );
            for (const [key, tensor] of Object.entries(output.metrics)) sums.add(key, tensor);
            if (current.entropy !== undefined) {
              sawEntropy = true;
              sums.add(
                POLICY_ENTROPY,
                tf.div(tf.sum(tf.mul(current.entropy, current.mask)), Math.max(update.totals.tokens, 1)),
              );
            }
            // `+ 0 · Σ logp` keeps the loss connected to the parameters even when an objective returns
            // a constant (e.g. every group has equal rewards and no KL term): its gradient is then 0.
            return tf.add(output.loss, tf.mul(tf.sum(current.logp), 0)) as tf.Scalar;
          }),
        );
        const metrics = await sums.read();
        const outcome = await clock.run("update", plannedBatches, () =>
          applyUpdate(services.optimizer, accumulated.gradients, {
            gradClip: services.optimizerConfig.gradClip,
            lr: input.lr,
            loss: accumulated.loss,
          }),
        );
        if (sawEntropy && epoch === 0)
          entropy = (entropy ?? 0) + (metrics[POLICY_ENTROPY] ?? 0) / planned.length;
        delete metrics[POLICY_ENTROPY];
        updateMetrics.push(metrics);
        if (epoch === 0) {
          loss += accumulated.loss / planned.length;
          gradNorm = Math.max(gradNorm, outcome.gradNorm);
        }
        if (!Number.isFinite(outcome.gradNorm)) gradNorm = outcome.gradNorm;
        skipReason ??= outcome.skipReason;
      }
    }
  } finally {
    tf.dispose([...olds, ...references.filter((tensor): tensor is tf.Tensor => tensor !== undefined)]);
  }

  const stepSeconds = clock.elapsed();
  const statistics = rolloutStatistics(groups);
  const objectiveMetrics: Record<string, number> = {
    ...stepSamples.metrics,
    ...averageRecords(updateMetrics),
  };
  const klShare = klShareOfLoss(objectiveMetrics["policyLoss"] ?? 0, objectiveMetrics["klLoss"] ?? 0);
  if (klShare !== undefined) objectiveMetrics["klShareOfLoss"] = klShare;
  const memory = tf.memory();
  return {
    groups,
    record: {
      kind: "train",
      step: input.step + 1,
      lr: input.lr,
      loss: Number.isFinite(loss) ? loss : null,
      gradNorm: Number.isFinite(gradNorm) ? gradNorm : null,
      kl: useReference ? headlineMetric(objectiveMetrics, "kl") : null,
      entropy,
      clipFraction: headlineMetric(objectiveMetrics, "clipFraction"),
      dadsWeight: headlineMetric(objectiveMetrics, "dadsWeight"),
      stcrScale: headlineMetric(objectiveMetrics, "stcrScale"),
      ...statistics,
      // What DADS and STCR did this step (issue #18): see mechanismMetrics.ts.
      ...mechanismMetrics([objectiveMetrics]),
      tokensPerSecond: statistics.generatedTokens / Math.max(stepSeconds, 1e-9),
      stepSeconds,
      generationSeconds,
      memoryBytes: memory.numBytes,
      numTensors: memory.numTensors,
      skipped: skipReason !== null,
      skipReason,
      objective: objectiveMetrics,
      ...(generated.record === undefined ? {} : { rolloutService: generated.record }),
    },
  };
};
