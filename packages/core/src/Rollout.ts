import { Schema } from "effect";

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));
const TokenId = NonNegativeInt;
/** A log-probability: finite and at most 0. */
const LogProbability = Schema.Finite.check(Schema.isLessThanOrEqualTo(0));

/**
 * Why generation of a rollout ended: an end-of-sequence token or stop string (`stop`), or the
 * token budget (`length`).
 *
 * @since 0.1.0
 * @category rollouts
 */
export const FinishReason = Schema.Literals(["stop", "length"]);

/**
 * @since 0.1.0
 * @category rollouts
 */
export type FinishReason = typeof FinishReason.Type;

/**
 * One sampled response to one prompt. `logprobs[t]` is the log-probability of `tokenIds[t]` under
 * the distribution it was sampled from (after temperature), so the PPO ratio starts at 1.
 *
 * @since 0.1.0
 * @category rollouts
 */
export const Rollout = Schema.Struct({
  promptId: Schema.String.check(Schema.isNonEmpty()),
  groupIndex: NonNegativeInt,
  tokenIds: Schema.Array(TokenId),
  logprobs: Schema.Array(LogProbability),
  text: Schema.String,
  finishReason: FinishReason,
}).check(
  Schema.makeFilter((rollout) =>
    rollout.logprobs.length === rollout.tokenIds.length
      ? undefined
      : {
          path: ["logprobs"],
          issue: `Expected one log-probability per token (${rollout.tokenIds.length}), got ${rollout.logprobs.length}`,
        },
  ),
);

/**
 * @since 0.1.0
 * @category rollouts
 */
export type Rollout = typeof Rollout.Type;

/**
 * A rollout with the verdict of the reward function. `correct` is the accuracy verdict alone (not a
 * format bonus); `rewardBreakdown` holds each component of `reward`.
 *
 * @since 0.1.0
 * @category rollouts
 */
export const ScoredRollout = Schema.Struct({
  rollout: Rollout,
  reward: Schema.Finite,
  correct: Schema.Boolean,
  rewardBreakdown: Schema.Record(Schema.String, Schema.Finite),
});

/**
 * @since 0.1.0
 * @category rollouts
 */
export type ScoredRollout = typeof ScoredRollout.Type;

/**
 * The `G` scored responses to one prompt, in `groupIndex` order.
 *
 * @since 0.1.0
 * @category rollouts
 */
export const Group = Schema.Struct({
  promptId: Schema.String.check(Schema.isNonEmpty()),
  rollouts: Schema.Array(ScoredRollout).check(Schema.isMinLength(1)),
}).check(
  Schema.makeFilter((group) => {
    const index = group.rollouts.findIndex(
      (scored, position) =>
        scored.rollout.promptId !== group.promptId || scored.rollout.groupIndex !== position,
    );
    return index === -1
      ? undefined
      : {
          path: ["rollouts", index],
          issue: `Expected promptId ${JSON.stringify(group.promptId)} and groupIndex ${index}`,
        };
  }),
);

/**
 * @since 0.1.0
 * @category rollouts
 */
export type Group = typeof Group.Type;
