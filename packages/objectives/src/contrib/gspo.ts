/**
 * GSPO (Group Sequence Policy Optimization) — the worked example of a contributed objective.
 *
 * It is written only against public API: the `ObjectiveV2` contract and `decodeSync` from
 * `@apo-rl/core`, tfjs-core ops, the public ops of `@apo-rl/tensor` (`klEstimate`) and the public
 * building blocks of this package (`defineObjective`, `checkSampleBatch`, `checkMicroBatch`,
 * `groupAdvantages`, `zeroSpreadGroupFraction`, `mean`, `binaryMask`, `maskedValues`,
 * `maskedSequenceMean`); it is registered in the shared registry like any plugin would be. An objective in another package imports the same
 * names from `@apo-rl/objectives`. See docs/contributing-an-objective.md.
 */
import { decodeSync, InvalidInputError, type ObjectiveV2 } from "@apo-rl/core";
import { klEstimate } from "@apo-rl/tensor/portable";
import * as tf from "@tensorflow/tfjs-core";
import { Effect, Schema } from "effect";
import { defineObjective } from "../defineObjective.js";
import { groupAdvantages } from "../groupAdvantages.js";
import { mean, zeroSpreadGroupFraction } from "../groupStatistics.js";
import { checkMicroBatch, checkSampleBatch } from "../inputChecks.js";
import { binaryMask, maskedSequenceMean, maskedValues } from "../masking.js";

const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0));

/**
 * Options of {@link gspo}, with GSPO's reference defaults: sequence-level clip range
 * `clipLow 3e-4` / `clipHigh 4e-4`, `eps 1e-9`, group-normalised advantages, and no KL (`beta 0`;
 * with `beta > 0` the `k3` KL term `β · mean(kl)` is added as in GRPO).
 *
 * @since 0.1.0
 * @category contributed objectives
 */
export const GspoOptions = Schema.Struct({
  clipLow: NonNegative.check(Schema.isLessThan(1)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(3e-4))),
  clipHigh: NonNegative.pipe(Schema.withDecodingDefaultKey(Effect.succeed(4e-4))),
  eps: NonNegative.pipe(Schema.withDecodingDefaultKey(Effect.succeed(1e-9))),
  advantageScale: Schema.Literals(["group", "batch", "none"]).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed("group" as const)),
  ),
  beta: NonNegative.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0))),
});

/**
 * @since 0.1.0
 * @category contributed objectives
 */
export type GspoOptions = typeof GspoOptions.Type;

/**
 * The metrics {@link gspo} reports.
 *
 * @since 0.1.0
 * @category contributed objectives
 */
export const gspoMetricNames = [
  "loss",
  "policyLoss",
  "klLoss",
  "kl",
  "clipFraction",
  "ratioMean",
  "advantagePositiveMean",
  "advantageNegativeMean",
  "zeroSpreadGroupFraction",
] as const;

/**
 * GSPO: one importance ratio per sequence, `s_i = exp(mean_t(logp − logp_old))` over its response
 * tokens, clipped at the sequence level:
 * `loss = −mean_i min(s_i·A_i, clip(s_i, 1 − clipLow, 1 + clipHigh)·A_i) + β·mean_i kl_i`,
 * the means over every sequence of the step (so any split into micro-batches sums to it).
 *
 * @since 0.1.0
 * @category contributed objectives
 */
export const gspo = (options: typeof GspoOptions.Encoded = {}): ObjectiveV2<tf.Tensor> => {
  const settings = decodeSync(GspoOptions, "gspo options")(options);
  return defineObjective({
    name: "gspo",
    metricNames: gspoMetricNames,
    usesReference: () => settings.beta > 0,
    advantages(batch) {
      checkSampleBatch("gspo", batch);
      const advantage = groupAdvantages(batch.rewards, batch.groupSize, {
        scale: settings.advantageScale,
        eps: settings.eps,
      });
      return {
        perSample: { advantage },
        metrics: {
          advantagePositiveMean: mean(advantage.filter((value) => value > 0)),
          advantageNegativeMean: mean(advantage.filter((value) => value < 0)),
          zeroSpreadGroupFraction: zeroSpreadGroupFraction(batch.rewards, batch.groupSize),
        },
      };
    },
    microBatchLoss(input) {
      checkMicroBatch("gspo", input);
      if (settings.beta > 0 && input.logpRef === undefined)
        throw new InvalidInputError({
          subject: "gspo",
          field: "logpRef",
          reason: `Required: the KL coefficient is ${settings.beta}`,
          problems: [{ field: "logpRef", reason: `Required: the KL coefficient is ${settings.beta}` }],
        });
      const sequences = Math.max(input.totals.sequences, 1);
      return tf.tidy(() => {
        const mask = binaryMask(input.mask);
        const logRatio = tf.sub(maskedValues(input.logp, mask), maskedValues(input.logpOld, mask));
        const ratio = tf.exp(maskedSequenceMean(logRatio, mask));
        const advantage = tf.tensor1d(Float32Array.from(input.samples.advantage));
        const unclipped = tf.mul(ratio, advantage);
        const clipped = tf.mul(tf.clipByValue(ratio, 1 - settings.clipLow, 1 + settings.clipHigh), advantage);
        const policyLoss = tf.div(tf.neg(tf.sum(tf.minimum(unclipped, clipped))), sequences) as tf.Scalar;
        const clipFraction = tf.div(tf.sum(tf.cast(tf.less(clipped, unclipped), "float32")), sequences);
        const ratioMean = tf.div(tf.sum(ratio), sequences);
        if (input.logpRef === undefined || settings.beta === 0) {
          const zero = tf.scalar(0);
          return {
            loss: policyLoss,
            metrics: { loss: policyLoss, policyLoss, clipFraction, ratioMean, kl: zero, klLoss: zero },
          };
        }
        const perToken = klEstimate(maskedValues(input.logp, mask), maskedValues(input.logpRef, mask), "k3");
        const kl = tf.div(tf.sum(maskedSequenceMean(maskedValues(perToken, mask), mask)), sequences);
        const klLoss = tf.mul(settings.beta, kl);
        const total = tf.add(policyLoss, klLoss) as tf.Scalar;
        return {
          loss: total,
          metrics: { loss: total, policyLoss, clipFraction, ratioMean, kl, klLoss },
        };
      });
    },
  });
};
