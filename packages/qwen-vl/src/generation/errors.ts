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
