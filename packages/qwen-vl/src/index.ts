// Model (issue 6): config, safetensors, Qwen2.5-VL forward, KV cache.
export * from "./config/Qwen25VLConfig.js";
// Generation (issue 7): the rollout engine.
export * from "./generation/errors.js";
export * from "./generation/GenerateOptions.js";
export * from "./generation/GenerationConfig.js";
export type * from "./generation/GenerationPrompt.js";
export * from "./generation/generateTokens.js";
// LoRA (issue 7): adapters on the text decoder, PEFT save/load.
export * from "./lora/errors.js";
export * from "./lora/LoraAdapter.js";
export * from "./lora/LoraOptions.js";
export * from "./lora/peftFormat.js";
export * from "./model/errors.js";
export * from "./model/getRopeIndex.js";
export * from "./model/initQwen25VL.js";
export type * from "./model/LinearAdapter.js";
export * from "./model/loadQwen25VL.js";
export * from "./model/loadQwen25VLFromBytes.js";
export * from "./model/memory.js";
export * from "./model/Qwen25VLCache.js";
export * from "./model/Qwen25VLModel.js";
export type * from "./model/Qwen25VLParts.js";
export * from "./model/Qwen25VLService.js";
export * from "./model/trainingMemory.js";
export type { TrainableOption } from "./model/variables.js";
// Policy (issue 7): the core PolicyV1, checkpoints.
export {
  assembleQwenVLPolicy,
  createPortableQwenVLPolicy,
  type QwenVLPolicyParts,
  type QwenVLPolicyStorage,
} from "./policy/assembleQwenVLPolicy.js";
export * from "./policy/createQwenVLPolicy.js";
export * from "./policy/encodeSafetensors.js";
export * from "./policy/errors.js";
export type * from "./policy/QwenVLPolicyOptions.js";
export * from "./policy/QwenVLPolicyService.js";
export * from "./policy/qwen25VLConfigJson.js";
export { qwen25VLSafetensorsBytes, qwen25VLTensorSources } from "./policy/qwen25VLWeights.js";
export * from "./policy/saveQwen25VLCheckpoint.js";
export * from "./policy/scoreResponses.js";
export * from "./policy/writeSafetensors.js";
export { makePortableQwenVLProcessor } from "./processor/assembleQwenVLProcessor.js";
// Processor (issue 7): image loading, smart_resize, Pillow-exact bicubic resize, tokenizer, chat template.
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
export type { ImageContext } from "./processor/loadImage.js";
export { decodeImage, loadImage } from "./processor/loadImage.js";
export { loadQwenVLTokenizer } from "./processor/loadQwenVLTokenizer.js";
export type { ProcessedImages } from "./processor/processImages.js";
export { processImages, resizeForModel } from "./processor/processImages.js";
export type {
  EncodedPrompt,
  EncodeOptions,
  QwenVLProcessorOptions,
  QwenVLProcessorParts,
  QwenVLProcessorShape,
} from "./processor/QwenVLProcessor.js";
export { loadQwenVLProcessor, makeQwenVLProcessor, QwenVLProcessor } from "./processor/QwenVLProcessor.js";
export type { QwenVLSpecialTokens, QwenVLTokenizer } from "./processor/QwenVLTokenizer.js";
export { makeQwenVLTokenizer, REQUIRED_SPECIAL_TOKENS } from "./processor/QwenVLTokenizer.js";
export { type ImageLoader, loadRawImage } from "./processor/rawImage.js";
export { readChatTemplate } from "./processor/readChatTemplate.js";
export { readImageProcessorConfig } from "./processor/readImageProcessorConfig.js";
export { resizeBicubic } from "./processor/resizeBicubic.js";
export type { SmartResizeOptions } from "./processor/smartResize.js";
export { DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, smartResize } from "./processor/smartResize.js";
export * from "./safetensors/errors.js";
export * from "./safetensors/SafetensorsBytes.js";
export * from "./safetensors/SafetensorsFile.js";
export { parseSafetensorsHeader, type ReadBytes, toFloat32 } from "./safetensors/SafetensorsHeader.js";
