/**
 * The portable part of @apo-rl/qwen-vl, for hosts without Node (a browser page, a Web Worker):
 * config decoding, the model, generation, LoRA, the policy (`createPortableQwenVLPolicy`), the
 * tokenizer, chat template and image processor built from parsed contents, loading weights from
 * bytes or a URL, and writing them as safetensors bytes. It imports no Node built-in
 * (`scripts/check-architecture.mjs` enforces it). Images must be raw RGB pixels (`loadRawImage`):
 * there is no PNG/JPEG decoder here. Directory loaders and writers stay in the main entry point.
 *
 * @since 0.2.0
 */
export * from "./config/Qwen25VLConfig.js";
export * from "./generation/errors.js";
export * from "./generation/GenerateOptions.js";
export type * from "./generation/GenerationPrompt.js";
export * from "./generation/generateTokens.js";
export * from "./lora/errors.js";
export * from "./lora/LoraAdapter.js";
export * from "./lora/LoraOptions.js";
export * from "./model/errors.js";
export * from "./model/getRopeIndex.js";
export * from "./model/loadQwen25VLFromBytes.js";
export * from "./model/Qwen25VLCache.js";
export * from "./model/Qwen25VLModel.js";
export type * from "./model/Qwen25VLParts.js";
export type { TrainableOption } from "./model/variables.js";
export * from "./policy/assembleQwenVLPolicy.js";
export * from "./policy/encodeSafetensors.js";
export * from "./policy/errors.js";
export type * from "./policy/QwenVLPolicyOptions.js";
export * from "./policy/qwen25VLConfigJson.js";
export * from "./policy/qwen25VLWeights.js";
export * from "./policy/scoreResponses.js";
export {
  assembleQwenVLProcessor,
  type EncodedPrompt,
  type EncodeOptions,
  makePortableQwenVLProcessor,
  type QwenVLProcessorParts,
  type QwenVLProcessorShape,
} from "./processor/assembleQwenVLProcessor.js";
export type { ChatTemplate, ChatTemplateOptions } from "./processor/chatTemplate.js";
export { compileChatTemplate, QWEN2_5_VL_CHAT_TEMPLATE } from "./processor/chatTemplate.js";
export type { QwenVLProcessorError } from "./processor/errors.js";
export {
  ImageCountMismatchError,
  ImageDecodeError,
  ImageNotFoundError,
  ImageSizeError,
  InvalidImageError,
  isQwenVLProcessorError,
  ProcessorConfigError,
} from "./processor/errors.js";
export type { ImageProcessorConfig, PixelBudget } from "./processor/ImageProcessorConfig.js";
export {
  decodeImageProcessorConfig,
  PreprocessorConfigJson,
  QWEN2_5_VL_IMAGE_PROCESSOR_CONFIG,
} from "./processor/ImageProcessorConfig.js";
export type { ProcessedImages } from "./processor/processImagesWith.js";
export { processImagesWith, resizeForModel } from "./processor/processImagesWith.js";
export type { QwenVLSpecialTokens, QwenVLTokenizer } from "./processor/QwenVLTokenizer.js";
export { makeQwenVLTokenizer, REQUIRED_SPECIAL_TOKENS } from "./processor/QwenVLTokenizer.js";
export { type ImageContext, type ImageLoader, loadRawImage } from "./processor/rawImage.js";
export { resizeBicubic } from "./processor/resizeBicubic.js";
export type { SmartResizeOptions } from "./processor/smartResize.js";
export { DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, smartResize } from "./processor/smartResize.js";
export * from "./safetensors/errors.js";
export * from "./safetensors/SafetensorsBytes.js";
export * from "./safetensors/SafetensorsHeader.js";
