/**
 * Which halves of a model exist: both, only the text decoder (no vision tower, e.g. for text
 * benchmarks), or only the vision tower.
 *
 * @since 0.1.0
 * @category model
 */
export type Qwen25VLParts = "all" | "text" | "vision";
