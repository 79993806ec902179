/**
 * GSPO (Group Sequence Policy Optimization) — the worked example of a contributed objective.
 *
 * It is written only against public API: the `ObjectiveV1` contract and `decodeSync` from
 * `@apo-rl/core`, tfjs-core ops, the public ops of `@apo-rl/tensor` (`klEstimate`), and public building blocks of this package (`groupAdvantages`,
 * `registerObjective`, `DeviceMetrics`). An objective in another package imports the same names from
 * `@apo-rl/objectives`. See docs/contributing-an-objective.md.
 */
import {
  decodeSync,
  InvalidInputError,
  type ObjectiveContext,
  type ObjectiveInput,
  type ObjectiveV1,
} from "@apo-rl/core";
import { klEstimate } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { Effect, Schema } from "effect";
import { DeviceMetrics } from "../DeviceMetrics.js";
import { groupAdvantages } from "../groupAdvantages.js";
import { registerObjective } from "../objectiveRegistry.js";

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

const meanOf = (values: ReadonlyArray<number>): number =>
  values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;

/** Fraction of groups whose rewards are all equal. */
const zeroSpread = (rewards: ReadonlyArray<number>, groupSize: number): number => {
  const groups = rewards.length / groupSize;
  let uniform = 0;
  for (let start = 0; start < rewards.length; start += groupSize) {
    const group = rewards.slice(start, start + groupSize);
    if (group.every((reward) => reward === group[0])) uniform++;
  }
  return groups === 0 ? 0 : uniform / groups;
};

const fail = (field: string, reason: string) =>
  new InvalidInputError({ subject: "gspo", field, reason, problems: [{ field, reason }] });

/** Check the input against `logp`'s `[S, T]`, naming the offending field. */
const checkInput = (input: ObjectiveInput<tf.Tensor>): void => {
  const expected = input.logp.shape.join(", ");
  for (const field of ["logpOld", "mask", "logpRef"] as const) {
    const tensor = input[field];
    if (tensor !== undefined && tensor.shape.join(", ") !== expected)
      throw fail(field, `Expected shape [${expected}], got [${tensor.shape.join(", ")}]`);
  }
  const samples = input.logp.shape[0] ?? 0;
  if (input.rewards.length !== samples)
    throw fail("rewards", `Expected ${samples} entries (one per sequence), got ${input.rewards.length}`);
};

/**
 * GSPO: one importance ratio per sequence, `s_i = exp(mean_t(logp − logp_old))` over its response
 * tokens, clipped at the sequence level:
 * `loss = −mean_i min(s_i·A_i, clip(s_i, 1 − clipLow, 1 + clipHigh)·A_i) + β·mean_i kl_i`.
 *
 * @since 0.1.0
 * @category contributed objectives
 */
export const gspo = (options: typeof GspoOptions.Encoded = {}): ObjectiveV1<tf.Tensor> => {
  const settings = decodeSync(GspoOptions, "gspo options")(options);
  return {
    specificationVersion: "v1",
    name: "gspo",
    metricNames: gspoMetricNames,
    usesReference: () => settings.beta > 0,
    loss(input: ObjectiveInput<tf.Tensor>, _context: ObjectiveContext) {
      checkInput(input);
      if (settings.beta > 0 && input.logpRef === undefined)
        throw fail("logpRef", `Required: the KL coefficient is ${settings.beta}`);
      const advantages = groupAdvantages(input.rewards, input.groupSize, {
        scale: settings.advantageScale,
        eps: settings.eps,
      });
      const metrics: Record<string, number> = {
        advantagePositiveMean: meanOf(advantages.filter((advantage) => advantage > 0)),
        advantageNegativeMean: meanOf(advantages.filter((advantage) => advantage < 0)),
        zeroSpreadGroupFraction: zeroSpread(input.rewards, input.groupSize),
      };
      const device = new DeviceMetrics();
      const loss = tf.tidy(() => {
        const mask = tf.cast(tf.greater(tf.cast(input.mask, "float32"), 0), "float32");
        const onMask = (x: tf.Tensor) => tf.where(tf.greater(mask, 0), x, tf.zerosLike(x));
        const tokens = tf.maximum(tf.sum(mask, 1), 1);
        const sequenceMean = (x: tf.Tensor) => tf.div(tf.sum(onMask(x), 1), tokens);
        const ratio = tf.exp(sequenceMean(tf.sub(onMask(input.logp), onMask(input.logpOld))));
        const advantage = tf.tensor1d(Float32Array.from(advantages));
        const unclipped = tf.mul(ratio, advantage);
        const clipped = tf.mul(tf.clipByValue(ratio, 1 - settings.clipLow, 1 + settings.clipHigh), advantage);
        const policyLoss = tf.neg(tf.mean(tf.minimum(unclipped, clipped)));
        device.record("policyLoss", policyLoss);
        device.record("clipFraction", tf.mean(tf.cast(tf.less(clipped, unclipped), "float32")));
        device.record("ratioMean", tf.mean(ratio));
        if (input.logpRef === undefined || settings.beta === 0) {
          Object.assign(metrics, { kl: 0, klLoss: 0 });
          device.record("loss", policyLoss);
          return policyLoss;
        }
        const kl = sequenceMean(klEstimate(onMask(input.logp), onMask(input.logpRef), "k3"));
        const klLoss = tf.mul(settings.beta, tf.mean(kl));
        const total = tf.add(policyLoss, klLoss);
        device.record("kl", tf.mean(kl));
        device.record("klLoss", klLoss);
        device.record("loss", total);
        return total;
      });
      return { loss, metrics, deviceMetrics: device.read() };
    },
  };
};

registerObjective("gspo", gspo, GspoOptions);
