import type { GenerationPrompt } from "../../generation/GenerationPrompt.js";

/** Prompts left-padded into one batch, their images concatenated in row order. */
export interface PromptBatch {
  readonly inputIds: number[][];
  readonly attentionMask: number[][];
  readonly pixelValues: Float32Array | undefined;
  readonly imageGridThw: Array<readonly [number, number, number]>;
}

/** Left-pad token rows to the longest with `padTokenId` (mask 0) and append `suffixes` unpadded. */
export const leftPad = (
  rows: ReadonlyArray<ArrayLike<number>>,
  padTokenId: number,
): { inputIds: number[][]; attentionMask: number[][] } => {
  const width = Math.max(...rows.map((row) => row.length));
  const inputIds = rows.map((row) => [
    ...new Array<number>(width - row.length).fill(padTokenId),
    ...Array.from(row),
  ]);
  const attentionMask = rows.map((row) => [
    ...new Array<number>(width - row.length).fill(0),
    ...new Array<number>(row.length).fill(1),
  ]);
  return { inputIds, attentionMask };
};

/** Concatenate the images of the prompts in order (patch rows, then grids). */
export const concatImages = (
  prompts: ReadonlyArray<Pick<GenerationPrompt, "pixelValues" | "imageGridThw">>,
): Pick<PromptBatch, "pixelValues" | "imageGridThw"> => {
  const withImages = prompts.filter((prompt) => (prompt.imageGridThw?.length ?? 0) > 0);
  if (withImages.length === 0) return { pixelValues: undefined, imageGridThw: [] };
  const total = withImages.reduce((sum, prompt) => sum + prompt.pixelValues!.length, 0);
  const pixelValues = new Float32Array(total);
  let offset = 0;
  for (const prompt of withImages) {
    pixelValues.set(prompt.pixelValues!, offset);
    offset += prompt.pixelValues!.length;
  }
  return { pixelValues, imageGridThw: withImages.flatMap((prompt) => prompt.imageGridThw!) };
};

/** The prefill batch of a set of prompts. */
export const promptBatch = (prompts: ReadonlyArray<GenerationPrompt>, padTokenId: number): PromptBatch => ({
  ...leftPad(
    prompts.map((prompt) => prompt.inputIds),
    padTokenId,
  ),
  ...concatImages(prompts),
});
