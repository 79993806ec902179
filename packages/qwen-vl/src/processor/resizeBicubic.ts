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
  const source = image.data;
  const { start, count, weights, taps } = pass;
  const out = new Uint8Array(rows * outWidth * CHANNELS);
  for (let y = 0; y < rows; y++) {
    const rowOffset = (firstRow + y) * image.width * CHANNELS;
    for (let x = 0; x < outWidth; x++) {
      const weightOffset = x * taps;
      const n = count[x]!;
      let at = rowOffset + start[x]! * CHANNELS;
      let red = 0;
      let green = 0;
      let blue = 0;
      for (let j = 0; j < n; j++, at += CHANNELS) {
        const weight = weights[weightOffset + j]!;
        red += source[at]! * weight;
        green += source[at + 1]! * weight;
        blue += source[at + 2]! * weight;
      }
      const o = (y * outWidth + x) * CHANNELS;
      out[o] = clampToByte(red);
      out[o + 1] = clampToByte(green);
      out[o + 2] = clampToByte(blue);
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
  const { start, count, weights, taps } = pass;
  const rowLength = width * CHANNELS;
  const out = new Uint8Array(outHeight * rowLength);
  const sums = new Float64Array(rowLength);
  for (let y = 0; y < outHeight; y++) {
    const first = start[y]! - rowShift;
    const n = count[y]!;
    sums.fill(0);
    for (let j = 0; j < n; j++) {
      const weight = weights[y * taps + j]!;
      const rowOffset = (first + j) * rowLength;
      for (let i = 0; i < rowLength; i++) sums[i]! += source[rowOffset + i]! * weight;
    }
    const outOffset = y * rowLength;
    for (let i = 0; i < rowLength; i++) out[outOffset + i] = clampToByte(sums[i]!);
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
