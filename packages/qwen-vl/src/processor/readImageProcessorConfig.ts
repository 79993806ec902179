import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ProcessorConfigError } from "./errors.js";
import {
  decodeImageProcessorConfig,
  type ImageProcessorConfig,
  type PixelBudget,
  QWEN2_5_VL_IMAGE_PROCESSOR_CONFIG,
  withBudget,
} from "./ImageProcessorConfig.js";

/**
 * Read `preprocessor_config.json` from a checkpoint or processor directory; without the file, Qwen2.5-VL's
 * published settings ({@link QWEN2_5_VL_IMAGE_PROCESSOR_CONFIG}).
 *
 * @since 0.1.0
 * @category image processing
 */
export const readImageProcessorConfig = (
  directory: string,
  budget: PixelBudget = {},
): ImageProcessorConfig => {
  const file = join(directory, "preprocessor_config.json");
  if (!existsSync(file)) return withBudget(QWEN2_5_VL_IMAGE_PROCESSOR_CONFIG, budget, file);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new ProcessorConfigError({ file, field: "", reason: `not valid JSON: ${String(cause)}` });
  }
  return decodeImageProcessorConfig(json, budget, file);
};
