import { Schema } from "effect";
import type { AdvantageEstimator } from "../AdvantageEstimator.js";
import { checkSampleBatch } from "../inputChecks.js";
import { groupSlice } from "../internal/groups.js";
import { invalid } from "../internal/invalid.js";

/**
 * Options of the `rloo` estimator (none).
 *
 * @since 0.2.0
 * @category estimators
 */
export const RlooOptions = Schema.Struct({});

/**
 * RLOO, REINFORCE Leave-One-Out (Kool et al., 2019; Ahmadian et al., 2024, "Back to Basics"): each
 * sample's baseline is the mean reward of the other `G − 1` samples of its group,
 * `A_i = r_i − (Σ_{j≠i} r_j)/(G − 1)`. Needs `G ≥ 2`.
 *
 * @since 0.2.0
 * @category estimators
 */
export const rloo =
  (_options: typeof RlooOptions.Type): AdvantageEstimator =>
  (batch) => {
    const groups = checkSampleBatch("rloo", batch);
    const size = batch.groupSize;
    if (size < 2) throw invalid("rloo", "groupSize", `Expected at least 2 samples per group, got ${size}`);
    const advantage: number[] = [];
    for (let group = 0; group < groups; group++) {
      const members = groupSlice(batch.rewards, group, size);
      const total = members.reduce((sum, reward) => sum + reward, 0);
      for (const reward of members) advantage.push(reward - (total - reward) / (size - 1));
    }
    return { advantage };
  };
