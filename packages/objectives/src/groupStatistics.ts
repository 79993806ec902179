import { groupSlice, mean, sampleStd } from "./internal/groups.js";

export {
  /**
   * The values of group `group` (rows `group·G … group·G + G − 1`).
   *
   * @since 0.2.0
   * @category building blocks
   */
  groupSlice,
  /**
   * Arithmetic mean (0 for an empty list).
   *
   * @since 0.2.0
   * @category building blocks
   */
  mean,
  /**
   * Unbiased sample standard deviation (divide by `n − 1`); 0 with fewer than two values.
   *
   * @since 0.2.0
   * @category building blocks
   */
  sampleStd,
};

/**
 * Fraction of the groups (consecutive runs of `groupSize`) whose rewards are all equal: the groups
 * that carry no learning signal for a group-relative advantage.
 *
 * @since 0.2.0
 * @category building blocks
 */
export const zeroSpreadGroupFraction = (rewards: ReadonlyArray<number>, groupSize: number): number => {
  const groups = Math.floor(rewards.length / groupSize);
  let uniform = 0;
  for (let group = 0; group < groups; group++) {
    const members = groupSlice(rewards, group, groupSize);
    if (members.every((reward) => reward === members[0])) uniform++;
  }
  return groups === 0 ? 0 : uniform / groups;
};
