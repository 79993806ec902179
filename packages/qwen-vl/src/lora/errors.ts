import { Schema } from "effect";

/**
 * A LoRA adapter directory cannot be used with this model: a missing or malformed
 * `adapter_config.json` / `adapter_model.safetensors`, a missing tensor, or a shape that does not
 * match the model or the rank.
 *
 * @since 0.1.0
 * @category errors
 */
export class LoraAdapterError extends Schema.TaggedError<LoraAdapterError>()("LoraAdapterError", {
  file: Schema.String,
  /** The tensor or config field at fault (`""` for the file as a whole). */
  field: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    const where = this.field === "" ? "" : ` at ${this.field}`;
    return `LoRA adapter ${this.file}${where}: ${this.reason}`;
  }
}
