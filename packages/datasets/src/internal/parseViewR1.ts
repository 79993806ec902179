import { ChatMessage } from "@apo-rl/core";
import { Schema } from "effect";
import { DatasetFileError } from "../errors.js";
import type { RowOutcome } from "./assembleItems.js";
import { decodeValue } from "./decodeValue.js";
import { imagePartsOf } from "./messageImages.js";
import { AnswerField, answerText, IdField, idText } from "./rowFields.js";

/** One element of a View-R1 array; other keys are ignored. */
const ViewR1Row = Schema.Struct({
  message: Schema.String,
  answer: AnswerField,
  id: Schema.optional(IdField),
  category: Schema.optional(Schema.String),
});

const Messages = Schema.Array(ChatMessage).check(Schema.isMinLength(1));

const parseRow = (value: unknown, row: number): RowOutcome => {
  const decoded = decodeValue(ViewR1Row, value, { unknownKeys: "ignore" });
  if (!decoded.ok) return { row, ok: false, problems: decoded.problems };
  let json: unknown;
  try {
    json = JSON.parse(decoded.value.message);
  } catch (error) {
    return {
      row,
      ok: false,
      problems: [{ field: "message", reason: `not valid JSON: ${(error as Error).message}` }],
    };
  }
  const messages = decodeValue(Messages, json, { prefix: "message", unknownKeys: "ignore" });
  if (!messages.ok) return { row, ok: false, problems: messages.problems };
  return {
    row,
    ok: true,
    parsed: {
      id: idText(decoded.value.id),
      messages: messages.value,
      images: imagePartsOf(messages.value, "message"),
      answer: answerText(decoded.value.answer),
      category: decoded.value.category,
    },
  };
};

/**
 * Parse the text of a View-R1 file: a JSON array whose elements are `{ message, answer }`, `message`
 * being the JSON text of the chat messages. Row `n` is the `n`-th element (1-based).
 */
export const parseViewR1 = (path: string, text: string): ReadonlyArray<RowOutcome> | DatasetFileError => {
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch (error) {
    return new DatasetFileError({ path, reason: `not valid JSON: ${(error as Error).message}` });
  }
  if (!Array.isArray(rows))
    return new DatasetFileError({
      path,
      reason: `a View-R1 file is a JSON array of { message, answer } rows, got ${rows === null ? "null" : typeof rows}`,
    });
  return rows.map((value, index) => parseRow(value, index + 1));
};
