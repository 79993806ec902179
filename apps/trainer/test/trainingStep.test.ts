import { createObjective } from "@apo-rl/objectives";
import { counting } from "@apo-rl/rewards";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { AdamW } from "../src/AdamW.js";
import { inProcessBatchVerifier } from "../src/BatchVerifier.js";
import type { StepPhase } from "../src/step/phases.js";
import { runTrainingStep } from "../src/trainingStep.js";
import { testBackends, useBackend } from "./support/backends.js";
import { examples, makePolicy, taskConfig } from "./support/sayNumberTask.js";

/** AdamW that also keeps a copy of the gradients it is given (before its update). */
class RecordingAdamW extends AdamW {
  readonly seen: Array<Array<tf.Tensor>> = [];
  override update(gradients: ReadonlyArray<tf.Tensor>, lr: number): void {
    this.seen.push(gradients.map((gradient) => gradient.clone()));
    super.update(gradients, lr);
  }
}

interface StepSettings {
  readonly objective: string;
  readonly options: Record<string, unknown>;
  readonly maxTokensPerMicroBatch: number | undefined;
  readonly ppoEpochs?: number;
  readonly miniBatchesPerStep?: number;
  readonly lr?: number;
}

const step = async (settings: StepSettings) => {
  const policy = makePolicy(21);
  const optimizer = new RecordingAdamW(policy.trainableParameters(), {
    betas: [0.9, 0.99],
    eps: 1e-8,
    weightDecay: 0,
  });
  const config = taskConfig("unused");
  const phases: Array<StepPhase> = [];
  const microBatchRows: Array<number> = [];
  const { record, groups } = await runTrainingStep(
    {
      policy,
      objective: createObjective(settings.objective, settings.options),
      verifier: inProcessBatchVerifier(counting()),
      optimizer,
      // Up to 3 tokens per response: rows of different lengths, padded differently when split.
      rollout: { ...config.rollout, maxNewTokens: 3 },
      optimizerConfig: { ...config.optimizer, gradClip: 0 },
      maxTokensPerMicroBatch: settings.maxTokensPerMicroBatch,
      ppoEpochs: settings.ppoEpochs,
      miniBatchesPerStep: settings.miniBatchesPerStep,
      useReference: true,
      hooks: {
        afterPhase: (report) => {
          phases.push(report.phase);
          if (report.phase === "advantages")
            microBatchRows.push(...report.microBatches.map((batch) => batch.rollouts.length));
        },
      },
    },
    { step: 0, totalSteps: 1, examples, seed: 99, lr: settings.lr ?? 0.01 },
  );
  const gradients = await Promise.all(
    optimizer.seen.map(async (list) => Float64Array.from(await list[0]!.data())),
  );
  tf.dispose(optimizer.seen.flat());
  optimizer.dispose();
  policy.dispose();
  return { record, groups, gradients, phases, microBatchRows };
};

const relativeError = (actual: Float64Array, expected: Float64Array): number => {
  let difference = 0;
  let norm = 0;
  expected.forEach((value, index) => {
    difference += (actual[index]! - value) ** 2;
    norm += value ** 2;
  });
  return Math.sqrt(difference) / Math.max(Math.sqrt(norm), 1e-30);
};

/**
 * The split invariance of #13: the same rollouts (same seed and weights) trained with one row per
 * micro-batch (`maxTokensPerMicroBatch: 1`, groups split, each row padded only to itself) and with
 * every row at once give the same gradient, for every aggregation whose normaliser is the step's.
 * Extend `splits` with a model setting (e.g. activation checkpointing) to cover it too.
 */
const objectives: ReadonlyArray<readonly [string, string, Record<string, unknown>]> = [
  ["grpo token-mean", "grpo", { aggregation: "token-mean", beta: 0.05 }],
  ["drGrpo seq-mean-token-sum-norm", "drGrpo", {}],
  ["grpo advantageScale batch", "grpo", { advantageScale: "batch", beta: 0 }],
  [
    "grpo seq-mean-token-mean, KL in reward",
    "grpo",
    { aggregation: "seq-mean-token-mean", klPlacement: "reward", beta: 0.1 },
  ],
  ["apo (DADS + STCR)", "apo", { beta: 0.05 }],
  ["gspo", "gspo", { beta: 0.01 }],
];
const splits: ReadonlyArray<number> = [1, 4];

for (const backend of testBackends) {
  describe(`training step on ${backend}`, () => {
    it.each(objectives)(
      "%s: the gradient does not depend on the micro-batch split",
      async (_label, name, options) => {
        await useBackend(backend);
        const before = tf.memory().numTensors;
        const whole = await step({ objective: name, options, maxTokensPerMicroBatch: undefined });
        expect(whole.microBatchRows).toEqual([32]);
        expect(whole.record.zeroSpreadGroupFraction).toBeLessThan(1);
        const lengths = whole.groups.flatMap((group) =>
          group.rollouts.map((sample) => sample.rollout.tokenIds.length),
        );
        expect(new Set(lengths).size).toBeGreaterThan(1);
        for (const budget of splits) {
          const split = await step({ objective: name, options, maxTokensPerMicroBatch: budget });
          expect(split.microBatchRows.length).toBeGreaterThan(1);
          if (budget === 1) expect(split.microBatchRows.every((rows) => rows === 1)).toBe(true);
          expect(split.groups.map((group) => group.rollouts.map((sample) => sample.rollout.text))).toEqual(
            whole.groups.map((group) => group.rollouts.map((sample) => sample.rollout.text)),
          );
          expect(relativeError(split.gradients[0]!, whole.gradients[0]!)).toBeLessThanOrEqual(1e-5);
          expect(split.record.loss!).toBeCloseTo(whole.record.loss!, 6);
          expect(split.record.gradNorm! / whole.record.gradNorm!).toBeCloseTo(1, 5);
          for (const key of ["policyLoss", "kl", "klLoss", "clipFraction"])
            if (whole.record.objective[key] !== undefined)
              expect(split.record.objective[key]!).toBeCloseTo(whole.record.objective[key]!, 6);
        }
        expect(whole.record.gradNorm!).toBeGreaterThan(0);
        expect(tf.memory().numTensors).toBe(before);
      },
    );

    it("runs the phases in order through its hooks", async () => {
      await useBackend(backend);
      const { phases } = await step({ objective: "apo", options: {}, maxTokensPerMicroBatch: 8 });
      expect(phases).toEqual([
        "rollout",
        "score",
        "advantages",
        "reference",
        "oldLogprobs",
        "lossBackward",
        "update",
      ]);
    });

    it("takes ppoEpochs × miniBatchesPerStep updates, and clips once the policy has moved", async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const once = await step({ objective: "grpo", options: {}, maxTokensPerMicroBatch: undefined });
      expect(once.gradients).toHaveLength(1);
      expect(once.record.clipFraction).toBe(0);
      const epochs = await step({
        objective: "grpo",
        options: {},
        maxTokensPerMicroBatch: 16,
        ppoEpochs: 3,
        miniBatchesPerStep: 2,
        lr: 0.3,
      });
      expect(epochs.gradients).toHaveLength(6);
      expect(epochs.phases.filter((phase) => phase === "update")).toHaveLength(6);
      // After the first update the policy differs from the one that sampled: ratios leave [0.8, 1.2].
      expect(epochs.record.clipFraction!).toBeGreaterThan(0);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe("the kl column follows the objective's own estimator", () => {
  it.each(["k1", "k2", "k3"] as const)("%s", async (estimator) => {
    await useBackend("cpu");
    const policy = makePolicy(21);
    // Move the policy away from its reference (the initial table) so that the KL is not zero.
    tf.tidy(() =>
      policy.table.assign(tf.add(policy.table, tf.randomNormal(policy.table.shape, 0, 0.5, "float32", 3))),
    );
    const optimizer = new AdamW(policy.trainableParameters(), {
      betas: [0.9, 0.99],
      eps: 1e-8,
      weightDecay: 0,
    });
    const config = taskConfig("unused");
    let expected = Number.NaN;
    const { record } = await runTrainingStep(
      {
        policy,
        objective: createObjective("grpo", { klEstimator: estimator, beta: 0.01 }),
        verifier: inProcessBatchVerifier(counting()),
        optimizer,
        rollout: { ...config.rollout, maxNewTokens: 3 },
        optimizerConfig: config.optimizer,
        useReference: true,
        hooks: {
          // Before any update: the float64 mean over sequences of the per-sequence token mean.
          afterPhase: async (report) => {
            if (report.phase !== "reference") return;
            const [batch] = report.microBatches;
            const current = policy.logprobs(batch!);
            const reference = policy.logprobs(batch!, { reference: true });
            const [logp, logpRef, mask] = await Promise.all([
              current.logp.array() as Promise<number[][]>,
              reference.logp.array() as Promise<number[][]>,
              current.mask.array() as Promise<number[][]>,
            ]);
            tf.dispose([current.logp, current.mask, current.entropy ?? [], reference.logp, reference.mask]);
            const perToken = (d: number) =>
              estimator === "k1" ? -d : estimator === "k2" ? (d * d) / 2 : Math.exp(d) - d - 1;
            const perSequence = logp.map((row, s) => {
              const tokens = row.flatMap((value, t) =>
                mask[s]![t]! > 0 ? [perToken(logpRef[s]![t]! - value)] : [],
              );
              return tokens.reduce((a, b) => a + b, 0) / Math.max(tokens.length, 1);
            });
            expected = perSequence.reduce((a, b) => a + b, 0) / perSequence.length;
          },
        },
      },
      { step: 0, totalSteps: 1, examples, seed: 99, lr: 0.01 },
    );
    optimizer.dispose();
    policy.dispose();
    expect(Math.abs(expected)).toBeGreaterThan(1e-3);
    expect(record.kl!).toBeCloseTo(expected, 5);
    expect(record.objective["kl"]).toBe(record.kl);
  });
});
