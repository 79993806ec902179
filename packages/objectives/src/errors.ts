import { Schema } from "effect";

/**
 * `createObjective` was asked for a name no objective is registered under.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownObjectiveError extends Schema.TaggedError<UnknownObjectiveError>()(
  "UnknownObjectiveError",
  {
    name: Schema.String,
    known: Schema.Array(Schema.String),
    reason: Schema.String,
  },
) {
  override get message(): string {
    return `Unknown objective ${JSON.stringify(this.name)}: ${this.reason}`;
  }
}

/**
 * `registerObjective` was called with a name that is already taken (pass `{ replace: true }` to
 * override it on purpose), or with an invalid name.
 *
 * @since 0.1.0
 * @category errors
 */
export class ObjectiveRegistrationError extends Schema.TaggedError<ObjectiveRegistrationError>()(
  "ObjectiveRegistrationError",
  { name: Schema.String, reason: Schema.String },
) {
  override get message(): string {
    return `Cannot register objective ${JSON.stringify(this.name)}: ${this.reason}`;
  }
}

/**
 * A registry of components (advantage estimators, policy losses) was asked for a name nothing is
 * registered under; `known` lists what is.
 *
 * @since 0.2.0
 * @category errors
 */
export class UnknownComponentError extends Schema.TaggedError<UnknownComponentError>()(
  "UnknownComponentError",
  {
    kind: Schema.String,
    name: Schema.String,
    known: Schema.Array(Schema.String),
    reason: Schema.String,
  },
) {
  override get message(): string {
    return `Unknown ${this.kind} ${JSON.stringify(this.name)}: ${this.reason}`;
  }
}
