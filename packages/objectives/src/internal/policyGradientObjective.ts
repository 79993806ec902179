import type { MicroBatchOutput, ObjectiveContext, ObjectiveMicroBatch, ObjectiveV2 } from "@apo-rl/core";
import { klEstimate } from "@apo-rl/tensor/portable";
import * as tf from "@tensorflow/tfjs-core";
import { defineObjective } from "../defineObjective.js";
import { checkMicroBatch, checkSampleBatch } from "../inputChecks.js";
import type { KlSchedule } from "../klSchedule.js";
import { stopGradient } from "../masking.js";
import { mechanismTelemetry, mechanismTelemetryNames } from "../mechanismTelemetry.js";
import { objectiveMetricNames } from "../metricNames.js";
import type { PolicyLoss } from "../PolicyLoss.js";
import type { Aggregation, KlEstimator, KlPlacement } from "../policyGradientOptions.js";
import {
  type RolloutCorrectionOptions,
  rolloutCorrectionMetricNames,
  rolloutCorrectionWeights,
} from "../rolloutCorrection.js";
import { stepAggregate } from "../stepAggregate.js";
import { invalid } from "./invalid.js";
import { sampleMetrics } from "./sampleMetrics.js";
import { type SampleShaping, shapeSamples } from "./shapeSamples.js";
import { masked, sequenceMean } from "./tensorMath.js";

/** Everything a clipped-surrogate objective of the GRPO family is made of. */
export interface PolicyGradientConfig extends SampleShaping {
  readonly name: string;
  readonly policyLoss: PolicyLoss;
  readonly aggregation: Aggregation;
  readonly maxLength?: number | undefined;
  readonly klEstimator: KlEstimator;
  readonly klPlacement: KlPlacement;
  readonly beta: KlSchedule;
  readonly entropyCoefficient: number;
  readonly topEntropyFraction: number;
  /** Importance-sampling correction of rollouts from another policy (see `rolloutCorrection.ts`). */
  readonly rolloutCorrection?: RolloutCorrectionOptions | undefined;
}

/**
 * 1 on the `fraction` of the micro-batch's response tokens (`count` of them) with the highest
 * entropy, 0 elsewhere (ties at the threshold included). Inside the caller's tidy; no gradient.
 */
const topEntropyMask = (entropy: tf.Tensor, mask: tf.Tensor, fraction: number, count: number): tf.Tensor => {
  const keep = Math.max(1, Math.ceil(fraction * count));
  const candidates = tf.reshape(
    tf.where(tf.greater(mask, 0), entropy, tf.fill(entropy.shape, -Infinity)),
    [-1],
  );
  const { values } = tf.topk(candidates, Math.min(keep, candidates.size));
  const threshold = tf.slice(values, [Math.min(keep, candidates.size) - 1], [1]);
  return tf.mul(tf.cast(tf.greaterEqual(entropy, threshold), "float32"), mask);
};

const column = (values: ReadonlyArray<number>): tf.Tensor => tf.tensor1d(Float32Array.from(values));

/**
 * Per-token advantages `[R, T]` when the KL is folded into the reward: the token reward
 * `r_t = −β·w·k1_t` (`k1` from the rollout policy, no gradient) summed from `t` to the end of the
 * response, added to the sequence advantage, and the sum scaled by STCR as the reference does:
 * `A_t = A − β·w·s·Σ_{t'≥t} k1_{t'}`. Otherwise `[R]` sequence advantages. Inside the caller's tidy.
 */
const advantageTensor = (
  input: ObjectiveMicroBatch<tf.Tensor>,
  mask: tf.Tensor,
  config: PolicyGradientConfig,
  beta: number,
): tf.Tensor => {
  const advantages = column(input.samples.advantage);
  if (config.klPlacement === "loss" || beta === 0 || input.logpRef === undefined) return advantages;
  const k1 = masked(tf.sub(masked(input.logpOld, mask), masked(input.logpRef, mask)), mask);
  const toGo = tf.cumsum(k1, 1, false, true);
  const klWeight = column(input.samples["klWeight"] ?? input.samples.advantage.map(() => 1));
  const scale = column(input.samples["stcrScale"] ?? input.samples.advantage.map(() => 1));
  const perSample = tf.expandDims(tf.mul(tf.mul(klWeight, scale), beta), 1);
  return tf.sub(tf.expandDims(advantages, 1), tf.mul(perSample, toGo));
};

/** Build an `ObjectiveV2` from a configuration; the engine behind every built-in objective. */
export const policyGradientObjective = (config: PolicyGradientConfig): ObjectiveV2<tf.Tensor> =>
  defineObjective({
    name: config.name,
    metricNames: [
      ...objectiveMetricNames,
      ...mechanismTelemetryNames,
      ...(config.rolloutCorrection === undefined ? [] : rolloutCorrectionMetricNames),
    ],
    usesReference: (context: ObjectiveContext) => config.beta(context) > 0,
    advantages(batch, context) {
      checkSampleBatch(config.name, batch);
      const shaped = shapeSamples(batch.rewards, batch.correct, batch.lengths, batch.groupSize, config);
      return {
        perSample: {
          advantage: shaped.advantages,
          klWeight: shaped.klWeights,
          stcrScale: shaped.stcrScales,
          length: batch.lengths,
        },
        metrics: {
          ...shaped.estimatorMetrics,
          ...sampleMetrics(shaped),
          // What DADS and STCR do to this step's samples (issue #18): see mechanismTelemetry.ts.
          ...mechanismTelemetry({ ...shaped, correct: batch.correct, groupSize: batch.groupSize }),
          beta: config.beta(context),
        },
      };
    },
    microBatchLoss(input, context): MicroBatchOutput<tf.Tensor> {
      const beta = config.beta(context);
      if (beta > 0 && input.logpRef === undefined)
        throw invalid(
          config.name,
          "logpRef",
          `Required: the KL coefficient is ${beta} at step ${context.step}`,
        );
      checkMicroBatch(config.name, input);
      const needsEntropy = config.entropyCoefficient > 0 || config.topEntropyFraction < 1;
      if (needsEntropy && input.entropy === undefined)
        throw invalid(
          config.name,
          "entropy",
          "Required by entropyCoefficient > 0 or topEntropyFraction < 1: the policy must report per-token entropy",
        );
      return tf.tidy(() => {
        const mask = tf.cast(tf.greater(tf.cast(input.mask, "float32"), 0), "float32");
        const logp = masked(input.logp, mask);
        const logpOld = masked(input.logpOld, mask);
        // Rollout correction: `logpOld` holds the rollout engine's log-probs; the policy loss's ratio
        // is taken against the trained policy's own log-probs (no gradient) and the rollout policy
        // enters through the importance weights.
        const correction =
          config.rolloutCorrection === undefined
            ? undefined
            : rolloutCorrectionWeights(logp, logpOld, mask, config.rolloutCorrection);
        const corrected = correction !== undefined && config.rolloutCorrection?.mode !== "off";
        const policy = config.policyLoss({
          logp,
          logpOld: corrected ? stopGradient(logp) : logpOld,
          advantages: advantageTensor(input, mask, config, beta),
          mask,
        });
        const tokenWeighted =
          input.tokenWeights === undefined ? policy.perToken : tf.mul(policy.perToken, input.tokenWeights);
        const weighted = corrected ? tf.mul(tokenWeighted, correction.weights) : tokenWeighted;
        const correctionMetrics: Record<string, tf.Scalar> = {};
        if (correction !== undefined) {
          // Shares of the step's mean (over tokens, or sequences at sequence level): the micro-batches'
          // shares add up to the step's value. The maximum is a maximum over micro-batches.
          const sequenceLevel = config.rolloutCorrection?.level === "sequence";
          const units = sequenceLevel
            ? tf.sum(tf.cast(tf.greater(tf.sum(mask, 1), 0), "float32"))
            : tf.sum(mask);
          const share = tf.div(
            units,
            Math.max(sequenceLevel ? input.totals.sequences : input.totals.tokens, 1),
          );
          correctionMetrics["rolloutRatioMean"] = tf.mul(correction.ratioMean, share) as tf.Scalar;
          correctionMetrics["rolloutMaskedFraction"] = tf.mul(correction.maskedFraction, share) as tf.Scalar;
          correctionMetrics["rolloutRatioMax"] = correction.ratioMax;
        }
        const entropy = input.entropy === undefined ? undefined : masked(input.entropy, mask);
        const lossMask =
          entropy === undefined || config.topEntropyFraction >= 1
            ? mask
            : topEntropyMask(
                entropy,
                mask,
                config.topEntropyFraction,
                (input.samples["length"] ?? []).reduce((sum, length) => sum + length, 0),
              );
        const policyLoss = stepAggregate(
          masked(weighted, lossMask),
          lossMask,
          config.aggregation,
          input.totals,
          {
            maxLength: config.maxLength,
          },
        );
        const clipFraction = stepAggregate(policy.clipped, mask, "token-mean", input.totals);
        const entropyMetrics: Record<string, tf.Scalar> = {};
        let withEntropy = policyLoss;
        if (entropy !== undefined) {
          entropyMetrics["entropy"] = stepAggregate(entropy, mask, "token-mean", input.totals);
          const bonus = tf.mul(
            -config.entropyCoefficient,
            stepAggregate(entropy, mask, config.aggregation, input.totals, { maxLength: config.maxLength }),
          ) as tf.Scalar;
          entropyMetrics["entropyLoss"] = bonus;
          if (config.entropyCoefficient > 0) withEntropy = tf.add(policyLoss, bonus) as tf.Scalar;
        }
        const zero = tf.scalar(0);
        if (input.logpRef === undefined)
          return {
            loss: withEntropy,
            metrics: {
              loss: withEntropy,
              policyLoss,
              clipFraction,
              kl: zero,
              klLoss: zero,
              ...entropyMetrics,
              ...correctionMetrics,
            },
          };
        const sequences = Math.max(input.totals.sequences, 1);
        const kl = sequenceMean(
          masked(klEstimate(logp, masked(input.logpRef, mask), config.klEstimator), mask),
          mask,
        );
        const klMetric = tf.div(tf.sum(kl), sequences) as tf.Scalar;
        if (config.klPlacement === "reward" || beta === 0)
          return {
            loss: withEntropy,
            metrics: {
              loss: withEntropy,
              policyLoss,
              clipFraction,
              kl: klMetric,
              klLoss: zero,
              ...entropyMetrics,
              ...correctionMetrics,
            },
          };
        const weights = column(input.samples["klWeight"] ?? input.samples.advantage.map(() => 1));
        const klLoss = tf.div(tf.mul(beta, tf.sum(tf.mul(weights, kl))), sequences) as tf.Scalar;
        const total = tf.add(withEntropy, klLoss) as tf.Scalar;
        return {
          loss: total,
          metrics: {
            loss: total,
            policyLoss,
            clipFraction,
            kl: klMetric,
            klLoss,
            ...entropyMetrics,
            ...correctionMetrics,
          },
        };
      });
    },
  });
