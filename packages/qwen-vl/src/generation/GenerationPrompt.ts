/**
 * One tokenised prompt: token ids with each image's `<|image_pad|>` already expanded, and its
 * images' flattened patches (`[Σ t·h·w, 1176]` row-major) and grids, as the processor's `encode`
 * returns them.
 *
 * @since 0.1.0
 * @category generation
 */
export interface GenerationPrompt {
  readonly inputIds: ArrayLike<number>;
  readonly pixelValues?: Float32Array;
  readonly imageGridThw?: ReadonlyArray<readonly [number, number, number]>;
  /** Names the prompt in errors (default: its index). */
  readonly sample?: string;
}
