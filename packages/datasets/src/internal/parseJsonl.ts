import { ChatMessage } from "@apo-rl/core";
import { Schema } from "effect";
import type { RowOutcome } from "./assembleItems.js";
import { decodeValue } from "./decodeValue.js";
import { imagePartsOf, withImages } from "./messageImages.js";
import { AnswerField, answerText, IdField, idText } from "./rowFields.js";

/** One JSONL line; unknown keys are problems. */
const JsonlRow = Schema.Struct({
  id: Schema.optional(IdField),
  messages: Schema.optional(Schema.Array(ChatMessage).check(Schema.isMinLength(1))),
  prompt: Schema.optional(Schema.String),
  images: Schema.optional(Schema.Array(Schema.String)),
  answer: AnswerField,
  category: Schema.optional(Schema.String),
});

type JsonlRow = typeof JsonlRow.Type;

const UNKNOWN_KEY = "unknown key (a row has id, messages or prompt, images, answer, category)";

const failed = (row: number, field: string, reason: string): RowOutcome => ({
  row,
  ok: false,
  problems: [{ field, reason }],
});

/** The messages of a row and the field each image reference came from. */
const chatOf = (value: JsonlRow, row: number): RowOutcome => {
  const images = value.images ?? [];
  const imageFields = images.map((reference, index) => ({ reference, field: `images[${index}]` }));
  const base = { id: idText(value.id), answer: answerText(value.answer), category: value.category };
  if (value.messages !== undefined && value.prompt !== undefined)
    return failed(row, "", "give either messages or prompt, not both");
  if (value.prompt !== undefined) {
    const content = [
      ...images.map((image) => ({ type: "image" as const, image })),
      { type: "text" as const, text: value.prompt },
    ];
    return { row, ok: true, parsed: { ...base, messages: [{ role: "user", content }], images: imageFields } };
  }
  if (value.messages === undefined) return failed(row, "", "missing messages or prompt");
  const parts = imagePartsOf(value.messages, "messages");
  if (value.images === undefined)
    return { row, ok: true, parsed: { ...base, messages: value.messages, images: parts } };
  if (images.length !== parts.length)
    return failed(
      row,
      "images",
      `images lists ${images.length} image(s) but messages have ${parts.length} image part(s); they must match in number and order`,
    );
  return {
    row,
    ok: true,
    parsed: { ...base, messages: withImages(value.messages, images), images: imageFields },
  };
};

const parseLine = (line: string, row: number): RowOutcome => {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return failed(row, "", `not valid JSON: ${(error as Error).message}`);
  }
  const decoded = decodeValue(JsonlRow, json, { unknownKeys: "error" });
  if (decoded.ok) return chatOf(decoded.value, row);
  const problems = decoded.problems.map((problem) =>
    problem.reason === "Expected no excess property"
      ? { field: problem.field, reason: UNKNOWN_KEY }
      : problem,
  );
  return { row, ok: false, problems };
};

/** Parse JSONL text: one row per non-blank line; row `n` is line `n` (1-based). */
export const parseJsonl = (text: string): ReadonlyArray<RowOutcome> =>
  text
    .split("\n")
    .map((line, index) => ({ line: line.replace(/\r$/, ""), row: index + 1 }))
    .filter(({ line }) => line.trim() !== "")
    .map(({ line, row }) => parseLine(line, row));
