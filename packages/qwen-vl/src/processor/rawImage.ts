import type { ImageInput, RawImage } from "@apo-rl/core";
import { ImageDecodeError, InvalidImageError } from "./errors.js";

/**
 * Where an image comes from, for error messages and relative paths.
 *
 * @since 0.1.0
 * @category image processing
 */
export interface ImageContext {
  /** The sample (prompt id, dataset row) the image belongs to; named in errors. */
  readonly sample?: string;
  /** Position of the image in its list; names byte and raw-pixel inputs in errors. */
  readonly index?: number;
  /** Relative paths are resolved against this directory (default: the working directory). */
  readonly baseDirectory?: string;
}

export const withSample = (context: ImageContext): { sample?: string } =>
  context.sample === undefined ? {} : { sample: context.sample };

export const isRawImage = (input: ImageInput): input is RawImage =>
  typeof input === "object" && !(input instanceof Uint8Array);

export const checkSize = (image: RawImage, source: string, context: ImageContext): RawImage => {
  const { width, height } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new InvalidImageError({
      source,
      ...withSample(context),
      width,
      height,
      reason: "width and height must be positive integers",
    });
  }
  if (image.data.length !== width * height * 3) {
    throw new InvalidImageError({
      source,
      ...withSample(context),
      width,
      height,
      reason: `expected ${width * height * 3} RGB bytes (width · height · 3), got ${image.data.length}`,
    });
  }
  return image;
};

/**
 * Loads one image input as 8-bit RGB (`loadImage` in Node; {@link loadRawImage} without Node).
 *
 * @since 0.2.0
 * @category image processing
 */
export type ImageLoader = (input: ImageInput, context: ImageContext) => RawImage;

/**
 * The image loader of hosts without Node (a browser page): raw RGB pixels (checked: positive size,
 * `width · height · 3` bytes). Paths, URLs and encoded bytes throw `ImageDecodeError` saying so:
 * decode them first (e.g. a canvas's `getImageData` without its alpha channel).
 *
 * @throws {ImageDecodeError | InvalidImageError}
 * @since 0.2.0
 * @category image processing
 */
export const loadRawImage: ImageLoader = (input, context = {}) => {
  const source = `images[${context.index ?? 0}]`;
  if (typeof input !== "string" && isRawImage(input))
    return checkSize(input, `${source} (raw pixels)`, context);
  throw new ImageDecodeError({
    source: typeof input === "string" ? input.slice(0, 64) : `${source} (${input.length} bytes)`,
    ...withSample(context),
    reason:
      "only raw RGB pixels ({ width, height, data }) load without Node: this build has no file system and no PNG/JPEG decoder",
  });
};
