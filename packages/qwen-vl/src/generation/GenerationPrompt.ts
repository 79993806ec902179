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
  /**
   * This prompt's own sampling seed (an integer), in place of the options' `seed`: its row `g`
   * draws from the stream of `(seed, 0, g)`, exactly what it draws when generated alone with
   * `options.seed = seed`. Lets a server decode requests with different seeds in one batch.
   */
  readonly seed?: number;
}
