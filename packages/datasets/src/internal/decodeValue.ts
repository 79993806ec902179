import { toInvalidInput } from "@apo-rl/core";
import { Result, Schema } from "effect";

/** A field-level problem, `field` as `a.b[2].c`. */
export interface FieldProblem {
  readonly field: string;
  readonly reason: string;
}

export type Decoded<A> =
  | { readonly ok: true; readonly value: A }
  | { readonly ok: false; readonly problems: ReadonlyArray<FieldProblem> };

/** Join a field path prefix and a path relative to it: `message` + `[0].role` → `message[0].role`. */
export const joinField = (prefix: string, field: string): string =>
  prefix === ""
    ? field
    : field === ""
      ? prefix
      : field.startsWith("[")
        ? prefix + field
        : `${prefix}.${field}`;

/**
 * Decode `input` with every problem collected; unknown keys are problems (`"error"`) or dropped
 * (`"ignore"`). Field paths are prefixed with `prefix`.
 */
export const decodeValue = <S extends Schema.Codec<unknown, unknown, never, never>>(
  schema: S,
  input: unknown,
  options: { readonly prefix?: string; readonly unknownKeys: "error" | "ignore" },
): Decoded<S["Type"]> => {
  const result = Schema.decodeUnknownResult(schema)(input, {
    errors: "all",
    onExcessProperty: options.unknownKeys,
  });
  if (Result.isSuccess(result)) return { ok: true, value: result.success };
  const problems = toInvalidInput("row", result.failure).problems.map((problem) => ({
    field: joinField(options.prefix ?? "", problem.field),
    reason: problem.reason,
  }));
  return { ok: false, problems };
};
