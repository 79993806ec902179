import type { ImageInput } from "@apo-rl/core";
import type { ImageProcessorConfig } from "./ImageProcessorConfig.js";
import { loadImage } from "./loadImage.js";
import { type ProcessedImages, processImagesWith } from "./processImagesWith.js";
import type { ImageContext } from "./rawImage.js";

export { type ProcessedImages, resizeForModel } from "./processImagesWith.js";

/**
 * Qwen2.5-VL's image processor (`Qwen2VLImageProcessor`) for still images: load and convert to RGB,
 * `smartResize`, Pillow-exact bicubic resize, rescale by `rescaleFactor`, normalise with the CLIP
 * mean/std in float32, repeat along time to `temporalPatchSize` frames, and flatten patches in
 * merge-aware order. Images are concatenated along the patch rows. Synchronous. Images are loaded
 * with `loadImage` (paths, URLs, PNG/JPEG bytes, raw pixels).
 *
 * @throws {ImageNotFoundError | ImageDecodeError | InvalidImageError | ImageSizeError} naming the image.
 * @since 0.1.0
 * @category image processing
 */
export const processImages = (
  images: ReadonlyArray<ImageInput>,
  config: ImageProcessorConfig,
  context: Omit<ImageContext, "index"> = {},
): ProcessedImages => processImagesWith(images, config, context, loadImage);
