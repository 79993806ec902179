import { Schema } from "effect";

/**
 * A prompt does not fit the context: its tokens (image pads included) leave no room for a new
 * token within `limit` (`max_position_embeddings`, or the policy's `maxContextLength`).
 *
 * @since 0.1.0
 * @category errors
 */
export class PromptTooLongError extends Schema.TaggedError<PromptTooLongError>()("PromptTooLongError", {
  /** The sample (prompt id, or batch index) at fault. */
  sample: Schema.String,
  tokens: Schema.Number,
  limit: Schema.Number,
  reason: Schema.String,
}) {
  override get message(): string {
    return `Prompt of sample ${JSON.stringify(this.sample)} has ${this.tokens} tokens; the context holds ${this.limit}: ${this.reason}`;
  }
}

/**
 * A prompt given to `generateTokens` has the wrong shape: each prompt's `inputIds` is one flat
 * sequence of token ids (`number[]` or `Int32Array`); a batch is the array of prompts.
 *
 * @since 0.1.0
 * @category errors
 */
export class PromptInputError extends Schema.TaggedError<PromptInputError>()("PromptInputError", {
  /** The sample (prompt id, or batch index) at fault. */
  sample: Schema.String,
  field: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `Invalid prompt of sample ${JSON.stringify(this.sample)} at ${this.field}: ${this.reason}`;
  }
}
