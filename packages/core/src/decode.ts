import { Effect, Result, Schema, SchemaIssue } from "effect";
import { InvalidInputError } from "./errors.js";
import { formatPath } from "./internal/issuePath.js";

const standardFormatter = SchemaIssue.makeFormatterStandardSchemaV1();
const parseOptions = { errors: "all", onExcessProperty: "error" } as const;

/**
 * Convert a schema decoding failure into an {@link InvalidInputError} naming every offending field.
 *
 * @since 0.1.0
 * @category decoding
 */
export const toInvalidInput = (subject: string, error: Schema.SchemaError): InvalidInputError => {
  const problems = standardFormatter(error.issue).issues.map((issue) => ({
    field: formatPath((issue.path ?? []).map((key) => (typeof key === "object" ? key.key : key))),
    reason: issue.message,
  }));
  const first = problems[0] ?? { field: "", reason: "invalid value" };
  return new InvalidInputError({ subject, field: first.field, reason: first.reason, problems });
};

/**
 * Decode an unknown value with a schema, failing with an {@link InvalidInputError} that names the
 * field. Unknown keys are errors.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeEffect =
  <S extends Schema.Codec<unknown, unknown, never, never>>(schema: S, subject: string) =>
  (input: unknown): Effect.Effect<S["Type"], InvalidInputError> =>
    Schema.decodeUnknownEffect(schema)(input, parseOptions).pipe(
      Effect.mapError((error) => toInvalidInput(subject, error)),
    );

/**
 * Decode synchronously; throws an {@link InvalidInputError} that names the field. Unknown keys are
 * errors. For users who do not use Effect.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeSync =
  <S extends Schema.Codec<unknown, unknown, never, never>>(schema: S, subject: string) =>
  (input: unknown): S["Type"] => {
    const result = Schema.decodeUnknownResult(schema)(input, parseOptions);
    if (Result.isFailure(result)) throw toInvalidInput(subject, result.failure);
    return result.success;
  };
