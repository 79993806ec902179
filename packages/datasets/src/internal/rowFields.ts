import { Schema } from "effect";

/** A reference answer: a string, or a finite number written as its decimal string. */
export const AnswerField = Schema.Union([Schema.String, Schema.Finite]);

/** An id: a non-empty string or an integer. */
export const IdField = Schema.Union([Schema.String.check(Schema.isNonEmpty()), Schema.Int]);

export const answerText = (answer: string | number): string =>
  typeof answer === "number" ? String(answer) : answer;

export const idText = (id: string | number | undefined): string | undefined =>
  id === undefined ? undefined : String(id);
