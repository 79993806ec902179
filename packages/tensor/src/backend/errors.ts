import { Schema } from "effect";

/**
 * None of the requested backends could be initialised. `reason` lists every candidate and why it
 * failed.
 *
 * @since 0.1.0
 * @category errors
 */
export class BackendUnavailableError extends Schema.TaggedError<BackendUnavailableError>()(
  "BackendUnavailableError",
  {
    requested: Schema.Array(Schema.String),
    reason: Schema.String,
  },
) {
  override get message(): string {
    return `No usable TensorFlow.js backend among ${this.requested.join(", ")}: ${this.reason}`;
  }
}

/**
 * A backend preference names a backend apo-rl does not know. `source` is where the name came from
 * (`argument` or `APO_BACKEND`).
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownBackendError extends Schema.TaggedError<UnknownBackendError>()("UnknownBackendError", {
  backend: Schema.String,
  source: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `Unknown backend ${JSON.stringify(this.backend)} in ${this.source}: ${this.reason}`;
  }
}

/**
 * A wasm thread count (`APO_WASM_THREADS` or `configureWasmThreads`) is not `"auto"` or a whole
 * number from 1 to 8. `source` is where the value came from.
 *
 * @since 0.2.0
 * @category errors
 */
export class InvalidWasmThreadsError extends Schema.TaggedError<InvalidWasmThreadsError>()(
  "InvalidWasmThreadsError",
  {
    value: Schema.String,
    source: Schema.String,
    reason: Schema.String,
  },
) {
  override get message(): string {
    return `Invalid wasm thread count ${JSON.stringify(this.value)} in ${this.source}: ${this.reason}`;
  }
}
