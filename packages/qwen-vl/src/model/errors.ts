import { Schema } from "effect";

/**
 * The images and the `<|image_pad|>` tokens of an input disagree: more images than image
 * placeholders, pad counts that do not match `t·h·w / merge²`, or pixel rows that do not match
 * `image_grid_thw`.
 *
 * @since 0.1.0
 * @category errors
 */
export class ImageInputError extends Schema.TaggedError<ImageInputError>()("ImageInputError", {
  /** Batch row at fault, or -1 for the batch as a whole. */
  row: Schema.Number,
  reason: Schema.String,
}) {
  override get message(): string {
    return this.row < 0
      ? `Image input: ${this.reason}`
      : `Image input (batch row ${this.row}): ${this.reason}`;
  }
}

/**
 * A forward input is malformed: ragged rows, an attention mask of the wrong shape, a cache of
 * another batch size, no vision tower for an image input.
 *
 * @since 0.1.0
 * @category errors
 */
export class ForwardInputError extends Schema.TaggedError<ForwardInputError>()("ForwardInputError", {
  field: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `Invalid forward input at ${this.field}: ${this.reason}`;
  }
}

/**
 * The model does not fit the memory of the chosen backend. `fittingBackends` lists the backends
 * that can hold it.
 *
 * @since 0.1.0
 * @category errors
 */
export class ModelMemoryError extends Schema.TaggedError<ModelMemoryError>()("ModelMemoryError", {
  backend: Schema.String,
  requiredBytes: Schema.Number,
  availableBytes: Schema.Number,
  fittingBackends: Schema.Array(Schema.String),
  reason: Schema.String,
}) {
  override get message(): string {
    return `Model does not fit the ${this.backend} backend: ${this.reason}`;
  }
}

/**
 * A training step would not fit the backend's memory: its estimated peak (weights, optimizer state,
 * activations of the largest micro-batch, rollout caches) exceeds what the backend can hold.
 * Raised before the step runs, instead of a wasm heap overflow (which aborts the process).
 * `setting` names the option to lower (or turn on).
 *
 * @since 0.2.0
 * @category errors
 */
export class TrainingMemoryError extends Schema.TaggedError<TrainingMemoryError>()("TrainingMemoryError", {
  backend: Schema.String,
  requiredBytes: Schema.Number,
  availableBytes: Schema.Number,
  setting: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    return `Training step does not fit the ${this.backend} backend (lower ${this.setting}): ${this.reason}`;
  }
}
