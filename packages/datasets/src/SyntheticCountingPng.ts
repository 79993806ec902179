import { encodeRgbPng } from "./internal/png.js";
import {
  drawSyntheticCountingTask,
  type SyntheticCountingOptions,
  type SyntheticTask,
} from "./SyntheticCountingTask.js";

/**
 * A synthetic multimodal counting task: small RGB images (PNG bytes) of 1–6 non-overlapping
 * circles, squares and triangles in distinct colours, with "How many red shapes are there?" (or, in
 * the `sum` variant, two colours added). The answer is the count as a decimal string. Deterministic:
 * the same options give the same items, byte for byte. Throws core's `InvalidInputError` for bad
 * options. Node only (PNG encoding through pngjs); `syntheticCountingTaskPixels` is the portable
 * twin.
 *
 * @since 0.1.0
 * @category synthetic
 */
export const syntheticCountingTask = (options: SyntheticCountingOptions = {}): SyntheticTask =>
  drawSyntheticCountingTask(options, encodeRgbPng);
