import type { InvalidInputError } from "@apo-rl/core";
import { Schema } from "effect";

const where = (source: string, sample: string | undefined): string =>
  sample === undefined
    ? JSON.stringify(source)
    : `${JSON.stringify(source)} (sample ${JSON.stringify(sample)})`;

/**
 * An image file (path or `file://` URL) does not exist or cannot be read.
 *
 * @since 0.1.0
 * @category errors
 */
export class ImageNotFoundError extends Schema.TaggedError<ImageNotFoundError>()("ImageNotFoundError", {
  /** The path or URL as given. */
  source: Schema.String,
  /** The sample the image belongs to, when the caller named one. */
  sample: Schema.optional(Schema.String),
  reason: Schema.String,
}) {
  override get message(): string {
    return `Image ${where(this.source, this.sample)} cannot be read: ${this.reason}`;
  }
}

/**
 * Image bytes are not a PNG or JPEG file, or the decoder rejected them.
 *
 * @since 0.1.0
 * @category errors
 */
export class ImageDecodeError extends Schema.TaggedError<ImageDecodeError>()("ImageDecodeError", {
  /** The path, URL or a description of the bytes (e.g. `images[1] (532 bytes)`). */
  source: Schema.String,
  sample: Schema.optional(Schema.String),
  reason: Schema.String,
}) {
  override get message(): string {
    return `Image ${where(this.source, this.sample)} cannot be decoded: ${this.reason}`;
  }
}

/**
 * An image has a zero width or height, or raw pixels whose length is not `width · height · 3`.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidImageError extends Schema.TaggedError<InvalidImageError>()("InvalidImageError", {
  source: Schema.String,
  sample: Schema.optional(Schema.String),
  width: Schema.Number,
  height: Schema.Number,
  reason: Schema.String,
}) {
  override get message(): string {
    return `Image ${where(this.source, this.sample)} (${this.width}×${this.height}) is invalid: ${this.reason}`;
  }
}

/**
 * `smartResize` refuses a size: a side shorter than the factor (28) or an aspect ratio over 200.
 *
 * @since 0.1.0
 * @category errors
 */
export class ImageSizeError extends Schema.TaggedError<ImageSizeError>()("ImageSizeError", {
  height: Schema.Number,
  width: Schema.Number,
  /** The image this size belongs to, when known. */
  source: Schema.optional(Schema.String),
  sample: Schema.optional(Schema.String),
  reason: Schema.String,
}) {
  override get message(): string {
    const image = this.source === undefined ? "" : ` of image ${where(this.source, this.sample)}`;
    return `Image size ${this.height}×${this.width} (height×width)${image} is not supported: ${this.reason}`;
  }
}

/**
 * The rendered prompt has a different number of `<|image_pad|>` placeholders than images were given.
 *
 * @since 0.1.0
 * @category errors
 */
export class ImageCountMismatchError extends Schema.TaggedError<ImageCountMismatchError>()(
  "ImageCountMismatchError",
  {
    sample: Schema.optional(Schema.String),
    placeholders: Schema.Number,
    images: Schema.Number,
    reason: Schema.String,
  },
) {
  override get message(): string {
    const sample = this.sample === undefined ? "" : ` of sample ${JSON.stringify(this.sample)}`;
    return `Prompt${sample} has ${this.placeholders} image placeholder(s) but ${this.images} image(s): ${this.reason}`;
  }
}

/**
 * A processor directory is unusable: a missing or malformed `tokenizer.json`, `preprocessor_config.json`,
 * chat template, or a special token the processor needs.
 *
 * @since 0.1.0
 * @category errors
 */
export class ProcessorConfigError extends Schema.TaggedError<ProcessorConfigError>()("ProcessorConfigError", {
  /** The file at fault. */
  file: Schema.String,
  /** The field or token at fault, `""` for the whole file. */
  field: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    const field = this.field === "" ? "" : ` at ${this.field}`;
    return `Processor file ${JSON.stringify(this.file)}${field}: ${this.reason}`;
  }
}

/**
 * Every error the Qwen2.5-VL processor raises (`InvalidInputError`: messages that do not match the
 * core `ChatMessage` schema).
 *
 * @since 0.1.0
 * @category errors
 */
export type QwenVLProcessorError =
  | InvalidInputError
  | ImageNotFoundError
  | ImageDecodeError
  | InvalidImageError
  | ImageSizeError
  | ImageCountMismatchError
  | ProcessorConfigError;

const PROCESSOR_ERROR_TAGS: ReadonlySet<string> = new Set([
  "InvalidInputError",
  "ImageNotFoundError",
  "ImageDecodeError",
  "InvalidImageError",
  "ImageSizeError",
  "ImageCountMismatchError",
  "ProcessorConfigError",
]);

/**
 * True for the errors of {@link QwenVLProcessorError}.
 *
 * @since 0.1.0
 * @category errors
 */
export const isQwenVLProcessorError = (error: unknown): error is QwenVLProcessorError =>
  typeof error === "object" &&
  error !== null &&
  "_tag" in error &&
  typeof error._tag === "string" &&
  PROCESSOR_ERROR_TAGS.has(error._tag);
