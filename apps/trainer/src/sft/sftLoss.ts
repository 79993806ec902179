import type { GenerationRequest, PolicyBatch } from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import type { TrainablePolicy } from "../TrainablePolicy.js";

/**
 * One supervised example: a prompt and the token ids of the response to teach (ending with the
 * end-of-turn token).
 *
 * @since 0.1.0
 * @category sft
 */
export interface SftExample {
  readonly request: GenerationRequest;
  readonly responseIds: ReadonlyArray<number>;
  /** The response as text (carried into the batch's rollouts). */
  readonly responseText: string;
}

/**
 * The examples as a core `PolicyBatch` at temperature 1: each response becomes a rollout of its
 * prompt (a prompt drawn twice gets `#2`, `#3`, … appended to its id, so rows never mix).
 *
 * @since 0.1.0
 * @category sft
 */
export const sftBatch = (examples: ReadonlyArray<SftExample>): PolicyBatch => {
  const seen = new Map<string, number>();
  const requests = examples.map((example) => {
    const count = (seen.get(example.request.promptId) ?? 0) + 1;
    seen.set(example.request.promptId, count);
    return count === 1
      ? example.request
      : { ...example.request, promptId: `${example.request.promptId}#${count}` };
  });
  return {
    requests,
    rollouts: examples.map((example, index) => ({
      promptId: requests[index]!.promptId,
      groupIndex: 0,
      tokenIds: example.responseIds,
      logprobs: example.responseIds.map(() => 0),
      text: example.responseText,
      finishReason: "stop" as const,
    })),
    temperature: 1,
  };
};

/**
 * The SFT loss: mean negative log-likelihood of the response tokens given their prompts,
 * `−Σ_{s,t} mask·log π(y_{s,t} | x_s, y_{s,<t}) / Σ mask` (teacher forcing, through the policy's
 * differentiable `logprobs`). A scalar; differentiable in the policy's trainable parameters.
 *
 * @since 0.1.0
 * @category sft
 */
export const sftLoss = (policy: TrainablePolicy, batch: PolicyBatch): tf.Scalar =>
  tf.tidy(() => {
    const { logp, mask } = policy.logprobs(batch);
    return tf.neg(tf.div(tf.sum(tf.mul(logp, mask)), tf.maximum(tf.sum(mask), 1))) as tf.Scalar;
  });

/**
 * A micro-batch's additive share of the SFT loss: `−Σ_{s,t} mask·log π / totalTokens`, with
 * `totalTokens` the response tokens of the whole batch, so the shares of any split sum to
 * {@link sftLoss} of the unsplit batch.
 *
 * @since 0.2.0
 * @category sft
 */
export const sftMicroBatchLoss = (
  policy: TrainablePolicy,
  batch: PolicyBatch,
  totalTokens: number,
): tf.Scalar =>
  tf.tidy(() => {
    const { logp, mask } = policy.logprobs(batch);
    return tf.neg(tf.div(tf.sum(tf.mul(logp, mask)), Math.max(totalTokens, 1))) as tf.Scalar;
  });
