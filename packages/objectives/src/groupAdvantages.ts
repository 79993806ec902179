import { checkFinite, groupCount, groupSlice, mean, sampleStd } from "./internal/groups.js";
import { invalid } from "./internal/invalid.js";

/**
 * How centred rewards are scaled into advantages: by the group's standard deviation (GRPO), by the
 * standard deviation of all rewards in the batch, or not at all (Dr.GRPO).
 *
 * @since 0.1.0
 * @category advantages
 */
export type AdvantageScale = "group" | "batch" | "none";

/**
 * @since 0.1.0
 * @category advantages
 */
export interface GroupAdvantageOptions {
  /** Default `"group"`. */
  readonly scale?: AdvantageScale;
  /** Added to the standard deviation before dividing; default `1e-9` (the reference). */
  readonly eps?: number;
}

/**
 * Group-normalised advantages, in float64:
 * `A[i,j] = (r[i,j] − mean_j r[i,·]) / (std_j r[i,·] + eps)` with the unbiased standard deviation.
 * Consecutive runs of `groupSize` rewards form one group. With `scale: "batch"` the divisor is the
 * unbiased standard deviation of every reward in the batch; with `scale: "none"` the advantage is
 * the centred reward. Advantages sum to zero within each group, and a group whose rewards are all
 * equal gets advantages of exactly 0 (its float64 mean may differ from the rewards by an ulp, which
 * the division by `std + eps` would otherwise amplify).
 *
 * @since 0.1.0
 * @category advantages
 */
export const groupAdvantages = (
  rewards: ReadonlyArray<number>,
  groupSize: number,
  options: GroupAdvantageOptions = {},
): Array<number> => {
  const subject = "groupAdvantages";
  const groups = groupCount(subject, rewards.length, groupSize);
  checkFinite(subject, "rewards", rewards);
  const scale = options.scale ?? "group";
  const eps = options.eps ?? 1e-9;
  if (!(eps >= 0 && Number.isFinite(eps))) throw invalid(subject, "eps", `Expected eps ≥ 0, got ${eps}`);
  const batchStd = sampleStd(rewards);
  const advantages: Array<number> = [];
  for (let group = 0; group < groups; group++) {
    const members = groupSlice(rewards, group, groupSize);
    if (members.every((reward) => reward === members[0])) {
      advantages.push(...members.map(() => 0));
      continue;
    }
    const centre = mean(members);
    const divisor = scale === "group" ? sampleStd(members) + eps : scale === "batch" ? batchStd + eps : 1;
    for (const reward of members) advantages.push((reward - centre) / divisor);
  }
  return advantages;
};
