import { decodeSync, InvalidInputError } from "@apo-rl/core";
import { Schema } from "effect";

/**
 * Options of the dataset readers.
 *
 * - `root`: the directory every image must lie in (default: the dataset file's directory). Relative
 *   roots are resolved against the working directory.
 * - `allowOutsideRoot`: accept images outside `root` (default `false`: such rows are invalid).
 * - `skipInvalid`: drop bad rows and report them in `skipped` instead of failing (default `false`).
 * - `checkImages`: require every image file to exist (default `true`).
 * - `validateAnswer`: a hook called with each reference answer; a returned string is the reason the
 *   answer is unusable (e.g. the rewards package's reference parser cannot parse it) and makes the row
 *   invalid. A thrown error counts as such a reason too.
 *
 * @since 0.1.0
 * @category reading
 */
export interface ReadOptions {
  readonly root?: string;
  readonly allowOutsideRoot?: boolean;
  readonly skipInvalid?: boolean;
  readonly checkImages?: boolean;
  readonly validateAnswer?: (answer: string) => string | undefined;
}

/** {@link ReadOptions} with the defaults filled in. */
export interface ResolvedReadOptions {
  readonly root: string | undefined;
  readonly allowOutsideRoot: boolean;
  readonly skipInvalid: boolean;
  readonly checkImages: boolean;
  readonly validateAnswer: ((answer: string) => string | undefined) | undefined;
}

const DataOptions = Schema.Struct({
  root: Schema.optional(Schema.String.check(Schema.isNonEmpty())),
  allowOutsideRoot: Schema.optional(Schema.Boolean),
  skipInvalid: Schema.optional(Schema.Boolean),
  checkImages: Schema.optional(Schema.Boolean),
});

const decodeDataOptions = decodeSync(DataOptions, "dataset read options");

/**
 * Check the options and fill in the defaults; throws core's `InvalidInputError` naming the bad option
 * (unknown options are errors too).
 */
export const resolveReadOptions = (options: ReadOptions = {}): ResolvedReadOptions => {
  const { validateAnswer, ...data } = options;
  if (validateAnswer !== undefined && typeof validateAnswer !== "function") {
    const reason = "Expected a function (answer: string) => string | undefined";
    throw new InvalidInputError({
      subject: "dataset read options",
      field: "validateAnswer",
      reason,
      problems: [{ field: "validateAnswer", reason }],
    });
  }
  const decoded = decodeDataOptions(data);
  return {
    root: decoded.root,
    allowOutsideRoot: decoded.allowOutsideRoot ?? false,
    skipInvalid: decoded.skipInvalid ?? false,
    checkImages: decoded.checkImages ?? true,
    validateAnswer,
  };
};
