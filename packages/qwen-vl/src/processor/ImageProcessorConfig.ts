import { toInvalidInput } from "@apo-rl/core";
import { Result, Schema } from "effect";
import { ProcessorConfigError } from "./errors.js";
import { DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS } from "./smartResize.js";

const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0));
const Triple = Schema.Tuple([Schema.Finite, Schema.Finite, Schema.Finite]);

/**
 * The fields of HF's `preprocessor_config.json` that `Qwen2VLImageProcessor` reads; other keys are
 * ignored.
 *
 * @since 0.1.0
 * @category image processing
 */
export const PreprocessorConfigJson = Schema.Struct({
  min_pixels: Schema.optional(PositiveInt),
  max_pixels: Schema.optional(PositiveInt),
  size: Schema.optional(
    Schema.Struct({
      shortest_edge: Schema.optional(PositiveInt),
      longest_edge: Schema.optional(PositiveInt),
    }),
  ),
  patch_size: Schema.optional(PositiveInt),
  temporal_patch_size: Schema.optional(PositiveInt),
  merge_size: Schema.optional(PositiveInt),
  image_mean: Schema.optional(Triple),
  image_std: Schema.optional(Triple),
  rescale_factor: Schema.optional(Schema.Finite),
  resample: Schema.optional(Schema.Literals([3])),
  do_resize: Schema.optional(Schema.Boolean),
  do_rescale: Schema.optional(Schema.Boolean),
  do_normalize: Schema.optional(Schema.Boolean),
  do_convert_rgb: Schema.optional(Schema.Literals([true])),
});

/**
 * Resolved image-processor settings.
 *
 * @since 0.1.0
 * @category image processing
 */
export interface ImageProcessorConfig {
  readonly minPixels: number;
  readonly maxPixels: number;
  readonly patchSize: number;
  readonly temporalPatchSize: number;
  readonly mergeSize: number;
  readonly imageMean: readonly [number, number, number];
  readonly imageStd: readonly [number, number, number];
  readonly rescaleFactor: number;
  readonly doResize: boolean;
  readonly doRescale: boolean;
  readonly doNormalize: boolean;
}

/**
 * Overrides of the pixel budget, e.g. the model card's `maxPixels: 1280 · 28 · 28` to bound the cost.
 *
 * @since 0.1.0
 * @category image processing
 */
export interface PixelBudget {
  readonly minPixels?: number;
  readonly maxPixels?: number;
}

/**
 * Qwen2.5-VL-Instruct's published `preprocessor_config.json` (CLIP mean/std, 14-px patches, 2×2 merge,
 * 3136 … 12845056 pixels): used when a directory has no `preprocessor_config.json`.
 *
 * @since 0.1.0
 * @category image processing
 */
export const QWEN2_5_VL_IMAGE_PROCESSOR_CONFIG: ImageProcessorConfig = {
  minPixels: DEFAULT_MIN_PIXELS,
  maxPixels: DEFAULT_MAX_PIXELS,
  patchSize: 14,
  temporalPatchSize: 2,
  mergeSize: 2,
  imageMean: [0.48145466, 0.4578275, 0.40821073],
  imageStd: [0.26862954, 0.26130258, 0.27577711],
  rescaleFactor: 1 / 255,
  doResize: true,
  doRescale: true,
  doNormalize: true,
};

/** `Qwen2VLImageProcessor`'s class defaults for a JSON that omits the pixel range. */
const CLASS_DEFAULT_MAX_PIXELS = 28 * 28 * 1280;

const fromJson = (json: typeof PreprocessorConfigJson.Type): ImageProcessorConfig => {
  const base = QWEN2_5_VL_IMAGE_PROCESSOR_CONFIG;
  return {
    minPixels: json.min_pixels ?? json.size?.shortest_edge ?? base.minPixels,
    maxPixels: json.max_pixels ?? json.size?.longest_edge ?? CLASS_DEFAULT_MAX_PIXELS,
    patchSize: json.patch_size ?? base.patchSize,
    temporalPatchSize: json.temporal_patch_size ?? base.temporalPatchSize,
    mergeSize: json.merge_size ?? base.mergeSize,
    imageMean: json.image_mean ?? base.imageMean,
    imageStd: json.image_std ?? base.imageStd,
    rescaleFactor: json.rescale_factor ?? base.rescaleFactor,
    doResize: json.do_resize ?? true,
    doRescale: json.do_rescale ?? true,
    doNormalize: json.do_normalize ?? true,
  };
};

/** `config` with the pixel budget applied (internal: shared with `readImageProcessorConfig`). */
export const withBudget = (
  config: ImageProcessorConfig,
  budget: PixelBudget,
  file: string,
): ImageProcessorConfig => {
  const resolved = {
    ...config,
    minPixels: budget.minPixels ?? config.minPixels,
    maxPixels: budget.maxPixels ?? config.maxPixels,
  };
  if (!(resolved.minPixels > 0 && resolved.minPixels <= resolved.maxPixels)) {
    throw new ProcessorConfigError({
      file,
      field: "minPixels",
      reason: `need 0 < minPixels ≤ maxPixels, got ${resolved.minPixels} and ${resolved.maxPixels}`,
    });
  }
  return resolved;
};

/**
 * Decode a parsed `preprocessor_config.json`. Fields it omits take `Qwen2VLImageProcessor`'s
 * class defaults (note: `max_pixels` then defaults to 28·28·1280, as in HF).
 *
 * @throws {ProcessorConfigError} naming the offending field.
 * @since 0.1.0
 * @category image processing
 */
export const decodeImageProcessorConfig = (
  json: unknown,
  budget: PixelBudget = {},
  file = "preprocessor_config.json",
): ImageProcessorConfig => {
  const result = Schema.decodeUnknownResult(PreprocessorConfigJson)(json, { errors: "all" });
  if (Result.isFailure(result)) {
    const invalid = toInvalidInput(file, result.failure);
    throw new ProcessorConfigError({ file, field: invalid.field, reason: invalid.reason });
  }
  return withBudget(fromJson(result.success), budget, file);
};
