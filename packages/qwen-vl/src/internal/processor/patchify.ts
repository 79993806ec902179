import type { RawImage } from "@apo-rl/core";

/** Geometry of the patch flattening. */
export interface PatchGeometry {
  readonly patchSize: number;
  readonly temporalPatchSize: number;
  readonly mergeSize: number;
}

/**
 * Per-channel lookup of the normalised float32 value of each byte, computed with the reference's
 * arithmetic: `float32(byte · rescaleFactor)` in float64 (numpy's `rescale`), then
 * `(x − mean) / std` with float32 operands and float32 rounding after each operation (numpy's
 * `normalize` on a float32 array).
 */
export const normalisationTable = (options: {
  readonly rescaleFactor: number;
  readonly doRescale: boolean;
  readonly doNormalize: boolean;
  readonly imageMean: ReadonlyArray<number>;
  readonly imageStd: ReadonlyArray<number>;
}): Float32Array => {
  const table = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(options.imageMean[c]!);
    const std = Math.fround(options.imageStd[c]!);
    for (let byte = 0; byte < 256; byte++) {
      const rescaled = options.doRescale ? Math.fround(byte * options.rescaleFactor) : byte;
      table[c * 256 + byte] = options.doNormalize
        ? Math.fround(Math.fround(rescaled - mean) / std)
        : rescaled;
    }
  }
  return table;
};

/**
 * Write the merge-aware patch rows of one still image into `out` from row `firstRow`: the image is
 * repeated `temporalPatchSize` times along time, and row
 * `r = (((t·Bh + bh)·Bw + bw)·m + mh)·m + mw`, column `k = ((c·T + tp)·p + py)·p + px` holds
 * pixel `(c, (bh·m + mh)·p + py, (bw·m + mw)·p + px)`. Returns the grid `[1, h/p, w/p]`.
 */
export const writePatches = (
  image: RawImage,
  table: Float32Array,
  geometry: PatchGeometry,
  out: Float32Array,
  firstRow: number,
): readonly [number, number, number] => {
  const { patchSize: p, temporalPatchSize: frames, mergeSize: m } = geometry;
  const gridHeight = image.height / p;
  const gridWidth = image.width / p;
  const blocksWide = gridWidth / m;
  const columns = 3 * frames * p * p;
  const blocks = (gridHeight / m) * blocksWide;
  for (let block = 0; block < blocks; block++) {
    const bh = Math.floor(block / blocksWide);
    const bw = block % blocksWide;
    for (let inner = 0; inner < m * m; inner++) {
      const patchRow = bh * m + Math.floor(inner / m);
      const patchColumn = bw * m + (inner % m);
      const rowOffset = (firstRow + block * m * m + inner) * columns;
      for (let c = 0; c < 3; c++) {
        for (let tp = 0; tp < frames; tp++) {
          for (let py = 0; py < p; py++) {
            const y = patchRow * p + py;
            const k = ((c * frames + tp) * p + py) * p;
            for (let px = 0; px < p; px++) {
              const x = patchColumn * p + px;
              out[rowOffset + k + px] = table[c * 256 + image.data[(y * image.width + x) * 3 + c]!]!;
            }
          }
        }
      }
    }
  }
  return [1, gridHeight, gridWidth];
};
