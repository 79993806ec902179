import type { ImageInput, RawImage } from "@apo-rl/core";
import { normalisationTable, writePatches } from "../internal/processor/patchify.js";
import { ImageSizeError } from "./errors.js";
import type { ImageProcessorConfig } from "./ImageProcessorConfig.js";
import type { ImageContext, ImageLoader } from "./rawImage.js";
import { resizeBicubic } from "./resizeBicubic.js";
import { smartResize } from "./smartResize.js";

/**
 * The vision inputs of a batch of images, as plain arrays (wrap with
 * `tf.tensor2d(pixelValues, pixelValuesShape)` when a tensor is needed; nothing here needs disposing).
 *
 * @since 0.1.0
 * @category image processing
 */
export interface ProcessedImages {
  /** Row-major `[numPatches, 3 · temporalPatchSize · patchSize²]` (1176 columns for Qwen2.5-VL). */
  readonly pixelValues: Float32Array;
  readonly pixelValuesShape: readonly [numPatches: number, patchDimension: number];
  /** One `[t, h, w]` per image, in patch units (`[1, h̄/14, w̄/14]` for a still image). */
  readonly imageGridThw: ReadonlyArray<readonly [t: number, h: number, w: number]>;
  /** `<|image_pad|>` tokens per image: `t · h · w / mergeSize²`. */
  readonly imageTokenCounts: ReadonlyArray<number>;
}

/**
 * Resize one RGB image to its `smartResize` size (Pillow-exact bicubic), without the other steps.
 *
 * @since 0.1.0
 * @category image processing
 */
export const resizeForModel = (
  image: RawImage,
  config: ImageProcessorConfig,
  origin: { readonly source?: string; readonly sample?: string } = {},
): RawImage => {
  const factor = config.patchSize * config.mergeSize;
  const named = {
    source: origin.source ?? "image",
    ...(origin.sample === undefined ? {} : { sample: origin.sample }),
  };
  let size: readonly [number, number];
  try {
    size = config.doResize
      ? smartResize(image.height, image.width, {
          factor,
          minPixels: config.minPixels,
          maxPixels: config.maxPixels,
        })
      : [image.height, image.width];
  } catch (error) {
    if (error instanceof ImageSizeError) {
      throw new ImageSizeError({ height: error.height, width: error.width, ...named, reason: error.reason });
    }
    throw error;
  }
  if (size[0] % factor !== 0 || size[1] % factor !== 0) {
    throw new ImageSizeError({
      height: size[0],
      width: size[1],
      ...named,
      reason: `with do_resize false both sides must already be multiples of ${factor}`,
    });
  }
  return resizeBicubic(image, size[0], size[1]);
};

const sourceOf = (input: ImageInput, index: number): string =>
  typeof input === "string"
    ? input.startsWith("data:")
      ? `images[${index}] (data URL)`
      : input
    : `images[${index}]`;

/**
 * Qwen2.5-VL's image processor (`Qwen2VLImageProcessor`) for still images: load and convert to RGB,
 * `smartResize`, Pillow-exact bicubic resize, rescale by `rescaleFactor`, normalise with the CLIP
 * mean/std in float32, repeat along time to `temporalPatchSize` frames, and flatten patches in
 * merge-aware order. Images are concatenated along the patch rows. Synchronous.
 *
 * @throws {ImageNotFoundError | ImageDecodeError | InvalidImageError | ImageSizeError} naming the image.
 * `load` turns each input into RGB pixels (`loadImage` in Node, `loadRawImage` without it).
 *
 * @since 0.2.0
 * @category image processing
 */
export const processImagesWith = (
  images: ReadonlyArray<ImageInput>,
  config: ImageProcessorConfig,
  context: Omit<ImageContext, "index">,
  load: ImageLoader,
): ProcessedImages => {
  const resized = images.map((input, index) => {
    const image = load(input, { ...context, index });
    const origin = { source: sourceOf(input, index) };
    return resizeForModel(
      image,
      config,
      context.sample === undefined ? origin : { ...origin, sample: context.sample },
    );
  });
  const columns = 3 * config.temporalPatchSize * config.patchSize * config.patchSize;
  const rowsPerImage = resized.map(
    (image) => (image.height / config.patchSize) * (image.width / config.patchSize),
  );
  const totalRows = rowsPerImage.reduce((a, b) => a + b, 0);
  const pixelValues = new Float32Array(totalRows * columns);
  const table = normalisationTable(config);
  let firstRow = 0;
  const imageGridThw = resized.map((image, index) => {
    const grid = writePatches(image, table, config, pixelValues, firstRow);
    firstRow += rowsPerImage[index]!;
    return grid;
  });
  const merged = config.mergeSize * config.mergeSize;
  return {
    pixelValues,
    pixelValuesShape: [totalRows, columns],
    imageGridThw,
    imageTokenCounts: imageGridThw.map(([t, h, w]) => (t * h * w) / merged),
  };
};
