import { Schema } from "effect";

/**
 * Remote rollouts failed: a server refused or broke a request (`server` names it), no server is
 * left to retry on (`server: null`), or a request cannot be sent (an unreadable image).
 *
 * @since 0.1.0
 * @category rollout
 */
export class RolloutServiceError extends Schema.TaggedError<RolloutServiceError>()("RolloutServiceError", {
  server: Schema.NullOr(Schema.String),
  reason: Schema.String,
}) {
  override get message(): string {
    return this.server === null
      ? `Remote rollouts: ${this.reason}`
      : `Rollout server ${this.server}: ${this.reason}`;
  }
}
