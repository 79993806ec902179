import type { RawImage } from "@apo-rl/core";
import {
  bicubicPassCoefficients,
  clampToByte,
  type PassCoefficients,
} from "../internal/processor/bicubicCoefficients.js";

const CHANNELS = 3;

/** Horizontal pass over source rows `[firstRow, firstRow + rows)` into a new `rows × outWidth` image. */
const resizeRows = (
  image: RawImage,
  firstRow: number,
  rows: number,
  outWidth: number,
  pass: PassCoefficients,
): Uint8Array => {
  const out = new Uint8Array(rows * outWidth * CHANNELS);
  for (let y = 0; y < rows; y++) {
    const rowOffset = (firstRow + y) * image.width * CHANNELS;
    for (let x = 0; x < outWidth; x++) {
      const start = pass.start[x]!;
      const count = pass.count[x]!;
      const weightOffset = x * pass.taps;
      for (let c = 0; c < CHANNELS; c++) {
        let sum = 0;
        for (let j = 0; j < count; j++) {
          sum += image.data[rowOffset + (start + j) * CHANNELS + c]! * pass.weights[weightOffset + j]!;
        }
        out[(y * outWidth + x) * CHANNELS + c] = clampToByte(sum);
      }
    }
  }
  return out;
};

/** Vertical pass: `source` has `width` columns; row `start[y] − rowShift` is its first tap for output `y`. */
const resizeColumns = (
  source: Uint8Array,
  width: number,
  outHeight: number,
  rowShift: number,
  pass: PassCoefficients,
): Uint8Array => {
  const rowLength = width * CHANNELS;
  const out = new Uint8Array(outHeight * rowLength);
  for (let y = 0; y < outHeight; y++) {
    const start = pass.start[y]! - rowShift;
    const count = pass.count[y]!;
    const weightOffset = y * pass.taps;
    for (let i = 0; i < rowLength; i++) {
      let sum = 0;
      for (let j = 0; j < count; j++) {
        sum += source[(start + j) * rowLength + i]! * pass.weights[weightOffset + j]!;
      }
      out[y * rowLength + i] = clampToByte(sum);
    }
  }
  return out;
};

/**
 * Resize an 8-bit RGB image with Pillow's BICUBIC filter, bit for bit (Pillow's integer path):
 * separable, the horizontal pass first (over only the source rows the vertical pass reads) into an
 * 8-bit intermediate, then the vertical pass; a pass whose size does not change is skipped. Each pass
 * uses the Keys cubic (`a = −0.5`) widened by the scale when shrinking (antialiasing), weights
 * normalised to sum 1 and rounded to 22-bit fixed point, and `(2²¹ + Σ pixel·weight) >> 22` clamped
 * to `[0, 255]`.
 *
 * @example
 * const small = resizeBicubic({ width: 4, height: 1, data }, 1, 2);
 * @since 0.1.0
 * @category image processing
 */
export const resizeBicubic = (image: RawImage, height: number, width: number): RawImage => {
  const horizontal = width !== image.width;
  const vertical = height !== image.height;
  if (!horizontal && !vertical) return { width, height, data: image.data.slice() };
  if (!vertical) {
    const data = resizeRows(image, 0, height, width, bicubicPassCoefficients(image.width, width));
    return { width, height, data };
  }
  const verticalPass = bicubicPassCoefficients(image.height, height);
  if (!horizontal) {
    return { width, height, data: resizeColumns(image.data, width, height, 0, verticalPass) };
  }
  const firstRow = verticalPass.start[0]!;
  const lastRow = verticalPass.start[height - 1]! + verticalPass.count[height - 1]!;
  const rows = resizeRows(
    image,
    firstRow,
    lastRow - firstRow,
    width,
    bicubicPassCoefficients(image.width, width),
  );
  return { width, height, data: resizeColumns(rows, width, height, firstRow, verticalPass) };
};
