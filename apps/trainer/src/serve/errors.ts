import { Schema } from "effect";

/**
 * A request `apo-serve` refuses, answered as an OpenAI-style JSON error
 * (`{ "error": { "message", "type", "param", "code" } }`) with HTTP `status`: 400 invalid request,
 * 401 missing or wrong bearer token, 404 unknown model / adapter / route, 405 wrong method, 413 body
 * too large, 429 queue full, 503 shutting down.
 *
 * @since 0.1.0
 * @category serve
 */
export class ServeRequestError extends Schema.TaggedError<ServeRequestError>()("ServeRequestError", {
  status: Schema.Number,
  /** OpenAI's error type: `invalid_request_error`, `authentication_error`, `not_found_error`, … */
  type: Schema.String,
  /** The request field at fault, when one is. */
  param: Schema.NullOr(Schema.String),
  reason: Schema.String,
}) {
  override get message(): string {
    return this.reason;
  }
}

/**
 * A 400 `invalid_request_error` naming `param`.
 *
 * @since 0.1.0
 * @category serve
 */
export const invalidRequest = (param: string | null, reason: string): ServeRequestError =>
  new ServeRequestError({ status: 400, type: "invalid_request_error", param, reason });

/**
 * A 404 `not_found_error`.
 *
 * @since 0.1.0
 * @category serve
 */
export const notFound = (param: string | null, reason: string): ServeRequestError =>
  new ServeRequestError({ status: 404, type: "not_found_error", param, reason });
