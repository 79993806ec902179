import type { GenerationPrompt } from "../../generation/GenerationPrompt.js";
import { concatImages } from "../generation/promptBatch.js";

type Grid = readonly [number, number, number];

/**
 * The images of a batch of scored rows, each distinct image once. Rows that share a prompt (the `n`
 * rollouts of one request) share its pixel array, so the vision tower need only run on the distinct
 * ones; `featureRows` then gives, for every `<|image_pad|>` token of the batch in row order, the row
 * of the distinct images' features it takes.
 */
export interface SharedImages {
  /** Patches of the distinct images, concatenated in order of first appearance. */
  readonly pixelValues: Float32Array;
  /** `[t, h, w]` of the distinct images. */
  readonly distinctGrids: ReadonlyArray<Grid>;
  /** `[t, h, w]` of every image of the batch, in row order (what the M-RoPE positions need). */
  readonly imageGridThw: ReadonlyArray<Grid>;
  /** Per image token of the batch (row order): its row in the distinct images' features. */
  readonly featureRows: Int32Array;
  /** Whether some image appears in more than one row (else `pixelValues` is simply every row's). */
  readonly repeated: boolean;
}

/** Feature rows of one image: its patches merged `mergeSize × mergeSize`. */
const featuresOf = (grids: ReadonlyArray<Grid>, mergeSize: number): number =>
  grids.reduce((sum, [t, h, w]) => sum + (t * h * w) / (mergeSize * mergeSize), 0);

/**
 * Group the prompts' images by identity of their pixel arrays; `undefined` when no prompt has one.
 */
export const sharedImages = (
  prompts: ReadonlyArray<Pick<GenerationPrompt, "pixelValues" | "imageGridThw">>,
  mergeSize: number,
): SharedImages | undefined => {
  const withImages = prompts.filter((prompt) => (prompt.imageGridThw?.length ?? 0) > 0);
  if (withImages.length === 0) return undefined;
  const firstRow = new Map<Float32Array, number>();
  const distinct: Array<(typeof withImages)[number]> = [];
  const featureRows: number[] = [];
  let distinctFeatures = 0;
  for (const prompt of withImages) {
    const count = featuresOf(prompt.imageGridThw!, mergeSize);
    let start = firstRow.get(prompt.pixelValues!);
    if (start === undefined) {
      start = distinctFeatures;
      firstRow.set(prompt.pixelValues!, start);
      distinct.push(prompt);
      distinctFeatures += count;
    }
    for (let row = 0; row < count; row++) featureRows.push(start + row);
  }
  const { pixelValues, imageGridThw: distinctGrids } = concatImages(distinct);
  return {
    pixelValues: pixelValues!,
    distinctGrids,
    imageGridThw: withImages.flatMap((prompt) => prompt.imageGridThw!),
    featureRows: Int32Array.from(featureRows),
    repeated: distinct.length < withImages.length,
  };
};
