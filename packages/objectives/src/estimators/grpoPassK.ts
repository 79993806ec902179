import { Effect, Schema } from "effect";
import type { AdvantageEstimator } from "../AdvantageEstimator.js";
import { checkSampleBatch } from "../inputChecks.js";
import { groupSlice, sampleStd } from "../internal/groups.js";
import { invalid } from "../internal/invalid.js";

/**
 * Options of the `grpoPassK` estimator: `normalizeByStd` (default true) and `eps` (default `1e-6`).
 *
 * @since 0.2.0
 * @category estimators
 */
export const GrpoPassKOptions = Schema.Struct({
  normalizeByStd: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(true))),
  eps: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed(1e-6)),
  ),
});

/**
 * GRPO pass@k (as verl's `grpo_passk`; the pass@k objective of Walder & Karkhanis, 2025,
 * arXiv:2505.15201): only the best response of each group is credited, by its margin over the
 * second best, `A_best = (r_(1) − r_(2)) / (std_group r + eps)` (without the division when
 * `normalizeByStd` is false), and every other response gets 0. Ties go to the earliest response.
 * Needs `G ≥ 2`.
 *
 * @since 0.2.0
 * @category estimators
 */
export const grpoPassK =
  (options: typeof GrpoPassKOptions.Type): AdvantageEstimator =>
  (batch) => {
    const groups = checkSampleBatch("grpoPassK", batch);
    if (batch.groupSize < 2)
      throw invalid(
        "grpoPassK",
        "groupSize",
        `Expected at least 2 samples per group, got ${batch.groupSize}`,
      );
    const advantage = batch.rewards.map(() => 0);
    for (let group = 0; group < groups; group++) {
      const members = groupSlice(batch.rewards, group, batch.groupSize);
      let best = 0;
      members.forEach((reward, index) => {
        if (reward > members[best]!) best = index;
      });
      const second = Math.max(...members.filter((_, index) => index !== best));
      const margin = members[best]! - second;
      advantage[group * batch.groupSize + best] = options.normalizeByStd
        ? margin / (sampleStd(members) + options.eps)
        : margin;
    }
    return { advantage };
  };
