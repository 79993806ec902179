/**
 * The smallest shape of a group that dynamic sampling needs: its scored rollouts' rewards. Core's
 * `Group` satisfies it.
 *
 * @since 0.1.0
 * @category DAPO
 */
export interface RewardedGroup {
  readonly rollouts: ReadonlyArray<{ readonly reward: number }>;
}

/**
 * Whether every reward of a group is equal (zero spread): such a group has all-zero advantages and
 * contributes no policy gradient.
 *
 * @since 0.1.0
 * @category DAPO
 */
export const hasUniformRewards = (group: RewardedGroup): boolean =>
  group.rollouts.every((scored) => scored.reward === group.rollouts[0]?.reward);

/**
 * DAPO dynamic sampling: keep only the groups whose rewards are not all equal. The caller samples
 * more prompts until the batch is full again.
 *
 * @since 0.1.0
 * @category DAPO
 */
export const filterUniformGroups = <G extends RewardedGroup>(groups: ReadonlyArray<G>): Array<G> =>
  groups.filter((group) => !hasUniformRewards(group));
