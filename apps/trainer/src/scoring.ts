import type { GenerationRequest, Rollout, ScoredRollout, Verification } from "@apo-rl/core";
import type { BatchVerifier } from "./BatchVerifier.js";
import { TrainerSetupError } from "./errors.js";
import type { TrainingExample } from "./TrainingData.js";

/**
 * The scored responses to one prompt, `groupSize` of them in `groupIndex` order.
 *
 * @since 0.1.0
 * @category training
 */
export interface ScoredGroup {
  /** The example, with the (unique) request actually sent to the policy. */
  readonly example: TrainingExample;
  readonly rollouts: ReadonlyArray<ScoredRollout>;
}

/**
 * The requests of a batch with unique prompt ids: a prompt drawn twice in one batch (e.g. across an
 * epoch boundary) gets `#2`, `#3`, … appended to its later copies, so each group stays separate.
 *
 * @since 0.1.0
 * @category training
 */
export const uniqueRequests = (
  examples: ReadonlyArray<TrainingExample>,
): ReadonlyArray<GenerationRequest> => {
  const seen = new Map<string, number>();
  return examples.map((example) => {
    const count = (seen.get(example.request.promptId) ?? 0) + 1;
    seen.set(example.request.promptId, count);
    return count === 1
      ? example.request
      : { ...example.request, promptId: `${example.request.promptId}#${count}` };
  });
};

/**
 * Arrange a policy's rollouts by prompt (in request order) and group index, checking that every
 * prompt got exactly `groupSize` responses.
 *
 * @since 0.1.0
 * @category training
 */
export const groupRollouts = (
  requests: ReadonlyArray<GenerationRequest>,
  rollouts: ReadonlyArray<Rollout>,
  groupSize: number,
): ReadonlyArray<ReadonlyArray<Rollout>> => {
  const byPrompt = new Map<string, Rollout[]>(requests.map((request) => [request.promptId, []]));
  for (const rollout of rollouts) {
    const group = byPrompt.get(rollout.promptId);
    if (group === undefined)
      throw new TrainerSetupError({
        component: "policy",
        reason: `generate returned a rollout for unknown prompt ${JSON.stringify(rollout.promptId)}`,
      });
    group.push(rollout);
  }
  return requests.map((request) => {
    const group = [...byPrompt.get(request.promptId)!].sort((a, b) => a.groupIndex - b.groupIndex);
    if (group.length !== groupSize || group.some((rollout, index) => rollout.groupIndex !== index))
      throw new TrainerSetupError({
        component: "policy",
        reason: `generate returned group indexes [${group.map((rollout) => rollout.groupIndex)}] for prompt ${JSON.stringify(request.promptId)}, expected 0..${groupSize - 1}`,
      });
    return group;
  });
};

/**
 * The reward components of a verification: each entry of `details.breakdown` (a number, or an
 * object with a numeric `reward` as @apo-rl/rewards' `composite` gives), else the single reward
 * under the verifier's name.
 *
 * @since 0.1.0
 * @category rewards
 */
export const rewardBreakdown = (verification: Verification, verifierName: string): Record<string, number> => {
  const breakdown = verification.details["breakdown"];
  if (typeof breakdown === "object" && breakdown !== null) {
    const numeric = Object.entries(breakdown).flatMap(([name, part]): Array<[string, number]> => {
      const value =
        typeof part === "object" && part !== null ? (part as { readonly reward?: unknown }).reward : part;
      return typeof value === "number" && Number.isFinite(value) ? [[name, value]] : [];
    });
    if (numeric.length > 0) return Object.fromEntries(numeric);
  }
  return { [verifierName]: verification.reward };
};

/**
 * Verify every rollout of every group against its prompt's answer (one batch call).
 *
 * @since 0.1.0
 * @category rewards
 */
export const scoreGroups = async (
  examples: ReadonlyArray<TrainingExample>,
  requests: ReadonlyArray<GenerationRequest>,
  groups: ReadonlyArray<ReadonlyArray<Rollout>>,
  verifier: BatchVerifier,
): Promise<ReadonlyArray<ScoredGroup>> => {
  const items = groups.flatMap((group, index) =>
    group.map((rollout) => ({ response: rollout.text, reference: examples[index]!.answer })),
  );
  const verifications = await verifier.verifyBatch(items);
  if (verifications.length !== items.length)
    throw new TrainerSetupError({
      component: "verifier",
      reason: `verifyBatch returned ${verifications.length} results for ${items.length} items`,
    });
  let position = 0;
  return groups.map((group, index) => ({
    example: { request: requests[index]!, answer: examples[index]!.answer },
    rollouts: group.map((rollout) => {
      const verification = verifications[position++]!;
      const reward = Number.isFinite(verification.reward) ? verification.reward : 0;
      return {
        rollout,
        reward,
        correct: verification.correct,
        rewardBreakdown: rewardBreakdown(verification, verifier.name),
      };
    }),
  }));
};
