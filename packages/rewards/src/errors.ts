import { Schema } from "effect";

/**
 * A reference answer that cannot be parsed: a dataset problem, reported at load time with the row.
 * Verifiers never reward a response against such a reference (reward 0, reason `invalid-reference`).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidReferenceError extends Schema.TaggedError<InvalidReferenceError>()(
  "InvalidReferenceError",
  {
    /** The reference as given. */
    reference: Schema.String,
    /** `no-answer`, `unparseable`, `too-deep`, `too-long`, `empty`, `not-a-choice`, `not-a-box`, `not-a-count`. */
    reason: Schema.String,
    /** Parser detail, e.g. `unclosed (`. */
    detail: Schema.String,
    /** Row of the dataset the reference comes from, when known. */
    row: Schema.optionalKey(Schema.Number),
  },
) {
  override get message(): string {
    const where = this.row === undefined ? "" : ` at row ${this.row}`;
    const shown = this.reference.length > 80 ? `${this.reference.slice(0, 77)}...` : this.reference;
    return `Invalid reference${where} (${this.reason}): ${JSON.stringify(shown)}${this.detail === "" ? "" : ` — ${this.detail}`}`;
  }
}

/**
 * The verifier pool could not start or run: missing worker file, a verifier that cannot be sent to a
 * worker (no `spec`), or a closed pool.
 *
 * @since 0.1.0
 * @category errors
 */
export class VerifierPoolError extends Schema.TaggedError<VerifierPoolError>()("VerifierPoolError", {
  /** `worker-missing`, `not-serializable`, `closed`, `worker-failed`. */
  reason: Schema.String,
  detail: Schema.String,
}) {
  override get message(): string {
    return `Verifier pool (${this.reason}): ${this.detail}`;
  }
}
