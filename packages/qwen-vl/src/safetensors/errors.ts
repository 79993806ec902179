import { Schema } from "effect";

const where = (file: string, tensor: string): string =>
  tensor === "" ? file : `${file} (tensor "${tensor}")`;

/**
 * The 8-byte length prefix or the JSON header of a safetensors file is unusable: the file is
 * shorter than 8 bytes, the header length exceeds the file or the 100 MB bound, the header is not
 * JSON, or an entry is malformed.
 *
 * @since 0.1.0
 * @category errors
 */
export class SafetensorsHeaderError extends Schema.TaggedError<SafetensorsHeaderError>()(
  "SafetensorsHeaderError",
  {
    file: Schema.String,
    /** The entry at fault, `""` for the header as a whole. */
    tensor: Schema.String,
    reason: Schema.String,
  },
) {
  override get message(): string {
    return `Invalid safetensors header in ${where(this.file, this.tensor)}: ${this.reason}`;
  }
}

/**
 * A tensor is stored in a dtype other than F32, F16 or BF16.
 *
 * @since 0.1.0
 * @category errors
 */
export class SafetensorsDtypeError extends Schema.TaggedError<SafetensorsDtypeError>()(
  "SafetensorsDtypeError",
  {
    file: Schema.String,
    tensor: Schema.String,
    dtype: Schema.String,
    reason: Schema.String,
  },
) {
  override get message(): string {
    return `Unsupported dtype in ${where(this.file, this.tensor)}: ${this.reason}`;
  }
}

/**
 * A tensor's `data_offsets` are inconsistent: outside the file (a truncated file), overlapping
 * another tensor, or not matching the byte size its dtype and shape imply.
 *
 * @since 0.1.0
 * @category errors
 */
export class SafetensorsOffsetError extends Schema.TaggedError<SafetensorsOffsetError>()(
  "SafetensorsOffsetError",
  {
    file: Schema.String,
    tensor: Schema.String,
    reason: Schema.String,
  },
) {
  override get message(): string {
    return `Bad data offsets in ${where(this.file, this.tensor)}: ${this.reason}`;
  }
}

/**
 * A weight the configuration requires is in no checkpoint file.
 *
 * @since 0.1.0
 * @category errors
 */
export class MissingWeightError extends Schema.TaggedError<MissingWeightError>()("MissingWeightError", {
  /** The checkpoint file or directory that should hold it. */
  file: Schema.String,
  tensor: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `Missing weight "${this.tensor}" in ${this.file}: ${this.reason}`;
  }
}

/**
 * A weight's stored shape differs from the shape the configuration implies.
 *
 * @since 0.1.0
 * @category errors
 */
export class WeightShapeError extends Schema.TaggedError<WeightShapeError>()("WeightShapeError", {
  file: Schema.String,
  tensor: Schema.String,
  expected: Schema.Array(Schema.Number),
  actual: Schema.Array(Schema.Number),
  reason: Schema.String,
}) {
  override get message(): string {
    return `Shape mismatch in ${where(this.file, this.tensor)}: ${this.reason}`;
  }
}

/**
 * A checkpoint directory lacks its weight files, or `model.safetensors.index.json` is unusable, or
 * a file cannot be read.
 *
 * @since 0.1.0
 * @category errors
 */
export class CheckpointFileError extends Schema.TaggedError<CheckpointFileError>()("CheckpointFileError", {
  file: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `Checkpoint file ${this.file}: ${this.reason}`;
  }
}

/**
 * A stored weight holds NaN or ±Infinity: a model loaded from it would only produce garbage.
 *
 * @since 0.1.0
 * @category errors
 */
export class NonFiniteWeightError extends Schema.TaggedError<NonFiniteWeightError>()("NonFiniteWeightError", {
  file: Schema.String,
  tensor: Schema.String,
  /** Index (row-major) of the first non-finite value. */
  index: Schema.Number,
  reason: Schema.String,
}) {
  override get message(): string {
    return `Non-finite weight in ${where(this.file, this.tensor)}: ${this.reason}`;
  }
}

/**
 * Every error a safetensors read can produce.
 *
 * @since 0.1.0
 * @category errors
 */
export type SafetensorsError =
  | SafetensorsHeaderError
  | SafetensorsDtypeError
  | SafetensorsOffsetError
  | MissingWeightError
  | WeightShapeError
  | NonFiniteWeightError
  | CheckpointFileError;
