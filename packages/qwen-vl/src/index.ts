// Every export of ./portable.js (no Node built-ins), plus what needs Node.
export * from "./generation/GenerationConfig.js";
export * from "./lora/peftFormat.js";
export * from "./model/initQwen25VL.js";
export type * from "./model/LinearAdapter.js";
export * from "./model/loadQwen25VL.js";
export * from "./model/memory.js";
export * from "./model/Qwen25VLService.js";
export * from "./model/trainingMemory.js";
export {
  assembleQwenVLPolicy,
  createPortableQwenVLPolicy,
  type QwenVLPolicyParts,
  type QwenVLPolicyStorage,
} from "./policy/assembleQwenVLPolicy.js";
export * from "./policy/createQwenVLPolicy.js";
export * from "./policy/QwenVLPolicyService.js";
export { qwen25VLSafetensorsBytes, qwen25VLTensorSources } from "./policy/qwen25VLWeights.js";
export * from "./policy/saveQwen25VLCheckpoint.js";
export * from "./policy/writeSafetensors.js";
export * from "./portable.js";
export { makePortableQwenVLProcessor } from "./processor/assembleQwenVLProcessor.js";
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
export { type ImageLoader, loadRawImage } from "./processor/rawImage.js";
export { readChatTemplate } from "./processor/readChatTemplate.js";
export { readImageProcessorConfig } from "./processor/readImageProcessorConfig.js";
export * from "./safetensors/SafetensorsFile.js";
export { parseSafetensorsHeader, type ReadBytes, toFloat32 } from "./safetensors/SafetensorsHeader.js";
