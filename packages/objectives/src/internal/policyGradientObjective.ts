import type { ObjectiveContext, ObjectiveInput, ObjectiveV1 } from "@apo-rl/core";
import { clippedSurrogate, klEstimate, maskedAggregate } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import type { KlSchedule } from "../klSchedule.js";
import { klShareOfLoss, mechanismTelemetry } from "../mechanismTelemetry.js";
import { objectiveMetricNames } from "../metricNames.js";
import type { Aggregation, KlEstimator, KlPlacement } from "../policyGradientOptions.js";
import { type CheckedInput, checkInput } from "./checkInput.js";
import { invalid } from "./invalid.js";
import { sampleMetrics } from "./sampleMetrics.js";
import { type SampleShaping, type ShapedSamples, shapeSamples } from "./shapeSamples.js";
import { masked, sequenceMean } from "./tensorMath.js";

/** Everything a clipped-surrogate objective of the GRPO family is made of. */
export interface PolicyGradientConfig extends SampleShaping {
  readonly name: string;
  readonly clipLow: number;
  readonly clipHigh: number;
  readonly dualClip?: number | undefined;
  readonly aggregation: Aggregation;
  readonly maxLength?: number | undefined;
  readonly klEstimator: KlEstimator;
  readonly klPlacement: KlPlacement;
  readonly beta: KlSchedule;
}

/**
 * Per-token advantages `[S, T]` when the KL is folded into the reward: the token reward
 * `r_t = −β·w·k1_t` (`k1` from the rollout policy, no gradient) summed from `t` to the end of the
 * response, added to the sequence advantage, and the sum scaled by STCR as the reference does:
 * `A_t = s·(A − β·w·Σ_{t'≥t} k1_{t'})`. Otherwise `[S]` sequence advantages.
 */
const advantageTensor = (
  input: ObjectiveInput<tf.Tensor>,
  checked: CheckedInput,
  shaped: ShapedSamples,
  config: PolicyGradientConfig,
  beta: number,
): tf.Tensor => {
  const { samples, tokens, mask } = checked;
  if (config.klPlacement === "loss" || beta === 0 || input.logpRef === undefined)
    return tf.tensor1d(Float32Array.from(shaped.advantages));
  const old = input.logpOld.dataSync();
  const ref = input.logpRef.dataSync();
  const perToken = new Float32Array(samples * tokens);
  for (let sample = 0; sample < samples; sample++) {
    let toGo = 0;
    for (let token = tokens - 1; token >= 0; token--) {
      const at = sample * tokens + token;
      if (mask[at]! > 0) toGo += old[at]! - ref[at]!;
      const kl = beta * shaped.klWeights[sample]! * shaped.stcrScales[sample]! * toGo;
      perToken[at] = shaped.advantages[sample]! - kl;
    }
  }
  return tf.tensor2d(perToken, [samples, tokens]);
};

const readScalar = (tensor: tf.Tensor): number => tensor.dataSync()[0] ?? 0;

/** The aggregated clipped-surrogate term and its clip fraction (inside the caller's tidy). */
const policyTerm = (
  logp: tf.Tensor,
  logpOld: tf.Tensor,
  advantages: tf.Tensor,
  mask: tf.Tensor,
  config: PolicyGradientConfig,
): { readonly policyLoss: tf.Scalar; readonly clipFraction: tf.Scalar } => {
  const surrogate = clippedSurrogate(logp, logpOld, advantages, {
    epsLow: config.clipLow,
    epsHigh: config.clipHigh,
    mask,
    ...(config.dualClip === undefined ? {} : { dualClip: config.dualClip }),
  });
  const policyLoss = maskedAggregate(
    masked(surrogate.loss, mask) as tf.Tensor2D,
    mask as tf.Tensor2D,
    config.aggregation,
    config.maxLength === undefined ? {} : { maxLength: config.maxLength },
  );
  return { policyLoss, clipFraction: surrogate.clipFraction };
};

/** Per-sequence masked mean of the KL estimator, `[S]` (inside the caller's tidy). */
const sequenceKl = (
  logp: tf.Tensor,
  logpRef: tf.Tensor,
  mask: tf.Tensor,
  estimator: KlEstimator,
): tf.Tensor => sequenceMean(masked(klEstimate(logp, masked(logpRef, mask), estimator), mask), mask);

/** Build an `ObjectiveV1` from a configuration; the engine behind every built-in objective. */
export const policyGradientObjective = (config: PolicyGradientConfig): ObjectiveV1<tf.Tensor> => ({
  specificationVersion: "v1",
  name: config.name,
  metricNames: objectiveMetricNames,
  usesReference: (context: ObjectiveContext) => config.beta(context) > 0,
  loss(input: ObjectiveInput<tf.Tensor>, context: ObjectiveContext) {
    const checked = checkInput(config.name, input);
    const beta = config.beta(context);
    if (beta > 0 && input.logpRef === undefined)
      throw invalid(
        config.name,
        "logpRef",
        `Required: the KL coefficient is ${beta} at step ${context.step}`,
      );
    const shaped = shapeSamples(input.rewards, input.correct, checked.lengths, input.groupSize, config);
    const metrics: Record<string, number> = {
      ...sampleMetrics(shaped),
      beta,
      kl: 0,
      klLoss: 0,
      ...mechanismTelemetry({ ...shaped, correct: input.correct, groupSize: input.groupSize }),
    };
    const loss = tf.tidy(() => {
      const mask = tf.cast(tf.greater(tf.cast(input.mask, "float32"), 0), "float32");
      const logp = masked(input.logp, mask);
      const advantages = advantageTensor(input, checked, shaped, config, beta);
      const { policyLoss, clipFraction } = policyTerm(
        logp,
        masked(input.logpOld, mask),
        advantages,
        mask,
        config,
      );
      metrics["policyLoss"] = readScalar(policyLoss);
      metrics["clipFraction"] = readScalar(clipFraction);
      metrics["loss"] = metrics["policyLoss"];
      if (input.logpRef === undefined) return policyLoss;
      const kl = sequenceKl(logp, input.logpRef, mask, config.klEstimator);
      metrics["kl"] = readScalar(tf.mean(kl));
      if (config.klPlacement === "reward") return policyLoss;
      const weights = tf.tensor1d(Float32Array.from(shaped.klWeights));
      const klLoss = tf.mul(beta, tf.mean(tf.mul(weights, kl)));
      const total = tf.add(policyLoss, klLoss);
      metrics["klLoss"] = readScalar(klLoss);
      metrics["loss"] = readScalar(total);
      return total;
    });
    const klShare = klShareOfLoss(metrics["policyLoss"] ?? 0, metrics["klLoss"] ?? 0);
    if (klShare !== undefined) metrics["klShareOfLoss"] = klShare;
    return { loss, metrics };
  },
});
