import { roundHalfEven } from "../internal/processor/roundHalfEven.js";
import { ImageSizeError } from "./errors.js";

/**
 * Settings of {@link smartResize}; the defaults are Qwen2.5-VL's `preprocessor_config.json`.
 *
 * @since 0.1.0
 * @category image processing
 */
export interface SmartResizeOptions {
  /** Both sides become multiples of this: `patch_size · merge_size`, 28 by default. */
  readonly factor?: number;
  /** Fewest pixels of the result, 3136 (56×56) by default. */
  readonly minPixels?: number;
  /** Most pixels of the result, 12845056 (16384·28·28) by default. */
  readonly maxPixels?: number;
}

/**
 * Default `min_pixels` of Qwen2.5-VL: 56×56, at least 4 image tokens.
 *
 * @since 0.1.0
 * @category image processing
 */
export const DEFAULT_MIN_PIXELS = 3136;

/**
 * Default `max_pixels` of Qwen2.5-VL: 16384·28·28, at most 16384 image tokens.
 *
 * @since 0.1.0
 * @category image processing
 */
export const DEFAULT_MAX_PIXELS = 12845056;

const MAX_ASPECT_RATIO = 200;

/**
 * The target `[height, width]` of an image, as HF's `smart_resize`: both sides multiples of `factor`,
 * the aspect ratio roughly kept, the pixel count within `[minPixels, maxPixels]`.
 *
 * - `h̄ = round(H/F)·F`, `w̄ = round(W/F)·F` with Python rounding (halves to even: 70 → 56);
 * - if `h̄·w̄ > maxPixels`: `β = √(H·W/maxPixels)`, `h̄ = max(F, ⌊H/β/F⌋·F)` (same for `w̄`);
 * - else if `h̄·w̄ < minPixels`: `β = √(minPixels/(H·W))`, `h̄ = ⌈H·β/F⌉·F` (same for `w̄`).
 *
 * @throws {ImageSizeError} when a side is shorter than `factor` or the aspect ratio exceeds 200.
 * @example
 * smartResize(70, 98); // [56, 112]
 * smartResize(30, 40); // [56, 84]
 * @since 0.1.0
 * @category image processing
 */
export const smartResize = (
  height: number,
  width: number,
  options: SmartResizeOptions = {},
): readonly [height: number, width: number] => {
  const factor = options.factor ?? 28;
  const minPixels = options.minPixels ?? DEFAULT_MIN_PIXELS;
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(height >= factor && width >= factor)) {
    throw new ImageSizeError({
      height,
      width,
      reason: `both sides must be at least the factor ${factor} pixels`,
    });
  }
  if (Math.max(height, width) / Math.min(height, width) > MAX_ASPECT_RATIO) {
    throw new ImageSizeError({
      height,
      width,
      reason: `the aspect ratio must be at most ${MAX_ASPECT_RATIO}, got ${Math.max(height, width) / Math.min(height, width)}`,
    });
  }
  const roundedHeight = roundHalfEven(height / factor) * factor;
  const roundedWidth = roundHalfEven(width / factor) * factor;
  if (roundedHeight * roundedWidth > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    return [
      Math.max(factor, Math.floor(height / beta / factor) * factor),
      Math.max(factor, Math.floor(width / beta / factor) * factor),
    ];
  }
  if (roundedHeight * roundedWidth < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    return [Math.ceil((height * beta) / factor) * factor, Math.ceil((width * beta) / factor) * factor];
  }
  return [roundedHeight, roundedWidth];
};
