import { Schema } from "effect";

/**
 * One problem found while decoding: the path of the offending value and what was expected.
 *
 * @since 0.1.0
 * @category errors
 */
export const InputProblem = Schema.Struct({ field: Schema.String, reason: Schema.String });

/**
 * @since 0.1.0
 * @category errors
 */
export type InputProblem = typeof InputProblem.Type;

/**
 * A value crossing a contract boundary does not match its schema. `field` is the path of the
 * first offending value (e.g. `[3].logprobs`), `reason` says what was expected, and `problems`
 * lists every problem found.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidInputError extends Schema.TaggedError<InvalidInputError>()("InvalidInputError", {
  /** What was being decoded, e.g. `Rollout` or `objective options`. */
  subject: Schema.String,
  /** Path of the first offending field, `""` for the value itself. */
  field: Schema.String,
  reason: Schema.String,
  problems: Schema.Array(InputProblem),
}) {
  override get message(): string {
    const where = this.field === "" ? "" : ` at ${this.field}`;
    const more = this.problems.length > 1 ? ` (+${this.problems.length - 1} more)` : "";
    return `Invalid ${this.subject}${where}: ${this.reason}${more}`;
  }
}

/**
 * An adapter (objective, verifier, policy) implements a contract version this release does not know.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnsupportedSpecificationError extends Schema.TaggedError<UnsupportedSpecificationError>()(
  "UnsupportedSpecificationError",
  {
    contract: Schema.String,
    found: Schema.String,
    reason: Schema.String,
  },
) {
  override get message(): string {
    return `${this.contract}: specificationVersion ${JSON.stringify(this.found)} is not supported (${this.reason})`;
  }
}
