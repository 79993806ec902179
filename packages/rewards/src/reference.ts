import { Effect } from "effect";
import { InvalidReferenceError } from "./errors.js";
import { readAnswer } from "./internal/answer.js";
import type { ExtractionMode } from "./internal/extract.js";
import { DEFAULT_MAX_INPUT_LENGTH } from "./limits.js";

/**
 * Options of {@link parseReference}.
 *
 * @since 0.1.0
 * @category references
 */
export interface ReferenceOptions {
  readonly extraction?: ReadonlyArray<"latex" | "expr">;
  readonly maxInputLength?: number;
  /** Letters of a multiple-choice question: a reference that is one of them is valid. Default `"ABCDE"`. */
  readonly choiceLetters?: string;
  /** Dataset row, reported in the error. */
  readonly row?: number;
}

/**
 * A reference answer that parses: its normalised text.
 *
 * @since 0.1.0
 * @category references
 */
export interface ParsedReference {
  readonly reference: string;
  readonly normalized: string;
}

const singleLetter = /^\s*\(?\s*([A-Z])\s*\)?\s*\.?\s*$/;

const invalid = (
  reference: string,
  reason: string,
  detail: string,
  row: number | undefined,
): InvalidReferenceError =>
  new InvalidReferenceError({ reference, reason, detail, ...(row === undefined ? {} : { row }) });

/**
 * Check that a math reference answer can be read. Throws {@link InvalidReferenceError} (with the row)
 * otherwise, so a dataset loader reports the row instead of training on a reference that would
 * reward nothing (or, in some peers, everything).
 *
 * @since 0.1.0
 * @category references
 */
export const parseReference = (reference: string, options: ReferenceOptions = {}): ParsedReference => {
  const row = options.row;
  const maxLength = options.maxInputLength ?? DEFAULT_MAX_INPUT_LENGTH;
  if (reference.trim() === "") throw invalid(reference, "empty", "the reference is empty", row);
  if (reference.length > maxLength) {
    throw invalid(reference, "too-long", `${reference.length} characters, limit ${maxLength}`, row);
  }
  const letter = singleLetter.exec(reference)?.[1];
  if (letter !== undefined && (options.choiceLetters ?? "ABCDE").includes(letter)) {
    return { reference, normalized: letter };
  }
  const modes: ReadonlyArray<ExtractionMode> = options.extraction ?? ["latex", "expr"];
  const answer = readAnswer(reference, modes);
  if (answer.ok) return { reference, normalized: answer.normalized };
  if (answer.reason === "no-answer")
    throw invalid(reference, "no-answer", "no answer found in the reference", row);
  throw invalid(reference, answer.reason, answer.message, row);
};

/**
 * Effect version of {@link parseReference}: fails with {@link InvalidReferenceError}.
 *
 * @since 0.1.0
 * @category references
 */
export const validateReference = (
  reference: string,
  options: ReferenceOptions = {},
): Effect.Effect<ParsedReference, InvalidReferenceError> =>
  Effect.try({
    try: () => parseReference(reference, options),
    catch: (error) =>
      error instanceof InvalidReferenceError
        ? error
        : invalid(reference, "unparseable", String(error), options.row),
  });

/**
 * Check many references at once; returns one error per bad row (empty when all parse).
 *
 * @since 0.1.0
 * @category references
 */
export const findInvalidReferences = (
  references: ReadonlyArray<string>,
  options: Omit<ReferenceOptions, "row"> = {},
): ReadonlyArray<InvalidReferenceError> =>
  references.flatMap((reference, row) => {
    try {
      parseReference(reference, { ...options, row });
      return [];
    } catch (error) {
      if (error instanceof InvalidReferenceError) return [error];
      throw error;
    }
  });

/**
 * Why a reference cannot be used, or `undefined` when it parses: fits the dataset readers'
 * `validateAnswer` hook (`readViewR1Json(path, { validateAnswer: referenceProblem })`).
 *
 * @since 0.1.0
 * @category references
 */
export const referenceProblem = (
  reference: string,
  options: Omit<ReferenceOptions, "row"> = {},
): string | undefined => {
  try {
    parseReference(reference, options);
    return undefined;
  } catch (error) {
    if (error instanceof InvalidReferenceError) return `${error.reason}: ${error.detail}`;
    throw error;
  }
};
