import { Schema } from "effect";

/**
 * A training batch the policy cannot score: a rollout names a prompt that is not among the
 * requests, or its tokens are outside the vocabulary.
 *
 * @since 0.1.0
 * @category errors
 */
export class PolicyBatchError extends Schema.TaggedError<PolicyBatchError>()("PolicyBatchError", {
  /** The sample (prompt id) at fault. */
  sample: Schema.String,
  field: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `Policy batch, sample ${JSON.stringify(this.sample)} at ${this.field}: ${this.reason}`;
  }
}

/**
 * `logprobs(batch, { reference: true })` was called on a full fine-tuning policy created without a
 * `reference` model (LoRA policies use the base weights and need none).
 *
 * @since 0.1.0
 * @category errors
 */
export class ReferencePolicyError extends Schema.TaggedError<ReferencePolicyError>()("ReferencePolicyError", {
  reason: Schema.String,
}) {
  override get message(): string {
    return `Reference policy: ${this.reason}`;
  }
}
