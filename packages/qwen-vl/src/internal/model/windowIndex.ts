import type { Qwen25VLConfig } from "../../config/Qwen25VLConfig.js";

/** Window partition of the vision tower (`get_window_index`) and the full-attention segments. */
export interface VisionSegments {
  /** Permutation of merged-token units into window order (length N / merge²). */
  readonly windowIndex: ReadonlyArray<number>;
  /** Patch boundaries of the windows in window order, starting at 0, empty windows removed. */
  readonly cuWindowSeqlens: ReadonlyArray<number>;
  /** Patch boundaries of each frame of each image (full attention). */
  readonly cuSeqlens: ReadonlyArray<number>;
}

type Grid = ReadonlyArray<number>;

const windowsOfImage = (
  grid: Grid,
  side: number,
  merge: number,
  offset: number,
  windowIndex: number[],
  boundaries: number[],
): void => {
  const [t, lh, lw] = [grid[0]!, grid[1]! / merge, grid[2]! / merge];
  const rows = Math.floor((lh + side - (lh % side)) / side);
  const columns = Math.floor((lw + side - (lw % side)) / side);
  for (let frame = 0; frame < t; frame++) {
    for (let windowRow = 0; windowRow < rows; windowRow++) {
      for (let windowColumn = 0; windowColumn < columns; windowColumn++) {
        let count = 0;
        for (let y = windowRow * side; y < Math.min(lh, (windowRow + 1) * side); y++) {
          for (let x = windowColumn * side; x < Math.min(lw, (windowColumn + 1) * side); x++) {
            windowIndex.push(offset + frame * lh * lw + y * lw + x);
            count++;
          }
        }
        boundaries.push(boundaries[boundaries.length - 1]! + count * merge * merge);
      }
    }
  }
};

/** Compute the window permutation, window boundaries and full-attention boundaries for the images. */
export const visionSegments = (grids: ReadonlyArray<Grid>, config: Qwen25VLConfig): VisionSegments => {
  const { windowSize, spatialMergeSize: merge, patchSize } = config.vision;
  const side = windowSize / merge / patchSize;
  const windowIndex: number[] = [];
  const raw = [0];
  const cuSeqlens = [0];
  let offset = 0;
  for (const grid of grids) {
    windowsOfImage(grid, side, merge, offset, windowIndex, raw);
    const [t, h, w] = [grid[0]!, grid[1]!, grid[2]!];
    offset += (t * h * w) / (merge * merge);
    for (let frame = 0; frame < t; frame++) cuSeqlens.push(cuSeqlens[cuSeqlens.length - 1]! + h * w);
  }
  const cuWindowSeqlens = raw.filter((value, index) => index === 0 || value !== raw[index - 1]);
  return { windowIndex, cuWindowSeqlens, cuSeqlens };
};
