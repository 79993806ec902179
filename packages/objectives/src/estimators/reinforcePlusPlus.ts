import { Effect, Schema } from "effect";
import type { AdvantageEstimator } from "../AdvantageEstimator.js";
import { checkSampleBatch } from "../inputChecks.js";
import { groupSlice, mean, sampleStd } from "../internal/groups.js";

/**
 * Options of the `reinforcePlusPlus` and `reinforcePlusPlusBaseline` estimators: `eps` (default
 * `1e-8`) added to the batch standard deviation.
 *
 * @since 0.2.0
 * @category estimators
 */
export const ReinforcePlusPlusOptions = Schema.Struct({
  eps: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed(1e-8)),
  ),
});

const whiten = (values: ReadonlyArray<number>, eps: number): Array<number> => {
  const centre = mean(values);
  const spread = sampleStd(values);
  return values.map((value) => (value - centre) / (spread + eps));
};

/**
 * REINFORCE++ (Hu, 2025, arXiv:2501.03262): the outcome reward whitened over the whole batch (not
 * per group), `A_i = (r_i − mean_batch r) / (std_batch r + eps)` with the unbiased standard
 * deviation. Pair it with `klPlacement: "reward"` for the per-token KL penalty of the paper.
 *
 * @since 0.2.0
 * @category estimators
 */
export const reinforcePlusPlus =
  (options: typeof ReinforcePlusPlusOptions.Type): AdvantageEstimator =>
  (batch) => {
    checkSampleBatch("reinforcePlusPlus", batch);
    return { advantage: whiten(batch.rewards, options.eps) };
  };

/**
 * REINFORCE++-baseline (Hu, 2025): subtract each group's mean reward, then whiten the centred
 * rewards over the whole batch, `c_i = r_i − mean_group r`, `A_i = (c_i − mean c) / (std c + eps)`.
 *
 * @since 0.2.0
 * @category estimators
 */
export const reinforcePlusPlusBaseline =
  (options: typeof ReinforcePlusPlusOptions.Type): AdvantageEstimator =>
  (batch) => {
    const groups = checkSampleBatch("reinforcePlusPlusBaseline", batch);
    const centred: number[] = [];
    for (let group = 0; group < groups; group++) {
      const members = groupSlice(batch.rewards, group, batch.groupSize);
      const centre = mean(members);
      for (const reward of members) centred.push(reward - centre);
    }
    return { advantage: whiten(centred, options.eps) };
  };
