import { join } from "node:path";
import type { ChatMessage, ImageInput } from "@apo-rl/core";
import { Context, Effect, Layer } from "effect";
import { isRecord, readOptionalJson } from "../internal/processor/readJsonFile.js";
import {
  assembleQwenVLProcessor,
  type EncodedPrompt,
  type EncodeOptions,
  type QwenVLProcessorParts,
  type QwenVLProcessorShape,
} from "./assembleQwenVLProcessor.js";
import { compileChatTemplate } from "./chatTemplate.js";
import { isQwenVLProcessorError, ProcessorConfigError, type QwenVLProcessorError } from "./errors.js";
import type { PixelBudget } from "./ImageProcessorConfig.js";
import { loadImage } from "./loadImage.js";
import { loadQwenVLTokenizer } from "./loadQwenVLTokenizer.js";
import type { ProcessedImages } from "./processImages.js";
import type { QwenVLSpecialTokens } from "./QwenVLTokenizer.js";
import { readChatTemplate } from "./readChatTemplate.js";
import { readImageProcessorConfig } from "./readImageProcessorConfig.js";

export type {
  EncodedPrompt,
  EncodeOptions,
  QwenVLProcessorParts,
  QwenVLProcessorShape,
} from "./assembleQwenVLProcessor.js";

/**
 * Options of {@link loadQwenVLProcessor}.
 *
 * @since 0.1.0
 * @category processor
 */
export interface QwenVLProcessorOptions extends PixelBudget {
  /** Where `tokenizer.json` / `tokenizer_config.json` are, when not in the processor directory. */
  readonly tokenizerDirectory?: string;
  /** A Jinja chat template that replaces the directory's. */
  readonly chatTemplate?: string;
  /** Relative image paths are resolved against this directory (default: the working directory). */
  readonly imageDirectory?: string;
}

const CONFIG_TOKEN_FIELDS = [
  ["image_token_id", "imagePad"],
  ["vision_start_token_id", "visionStart"],
  ["vision_end_token_id", "visionEnd"],
] as const;

/** The checkpoint's `config.json`, when present, must agree with the tokenizer on the vision token ids. */
const checkConfigTokenIds = (directory: string, tokens: QwenVLSpecialTokens): void => {
  const file = join(directory, "config.json");
  const config = readOptionalJson(file);
  if (!isRecord(config)) return;
  for (const [field, name] of CONFIG_TOKEN_FIELDS) {
    const id = config[field];
    if (typeof id === "number" && id !== tokens[name]) {
      throw new ProcessorConfigError({
        file,
        field,
        reason: `config.json says ${id} but the tokenizer gives ${tokens[name]}; use the checkpoint's own tokenizer`,
      });
    }
  }
};

/**
 * Assemble a processor from its parts (see {@link loadQwenVLProcessor} to read them from a directory).
 * Images load with `loadImage` (paths, URLs, PNG/JPEG bytes, raw pixels) unless `parts.loadImage`
 * replaces it.
 *
 * @since 0.1.0
 * @category processor
 */
export const makeQwenVLProcessor = (parts: QwenVLProcessorParts): QwenVLProcessorShape =>
  assembleQwenVLProcessor(parts, parts.loadImage ?? loadImage);

const loadSync = (directory: string, options: QwenVLProcessorOptions): QwenVLProcessorShape => {
  const tokenizer = loadQwenVLTokenizer(options.tokenizerDirectory ?? directory);
  checkConfigTokenIds(directory, tokenizer.specialTokens);
  const chatTemplate =
    options.chatTemplate === undefined
      ? readChatTemplate(
          directory,
          ...(options.tokenizerDirectory === undefined ? [] : [options.tokenizerDirectory]),
        )
      : compileChatTemplate(options.chatTemplate, "options.chatTemplate");
  return makeQwenVLProcessor({
    tokenizer,
    imageProcessorConfig: readImageProcessorConfig(directory, options),
    chatTemplate,
    ...(options.imageDirectory === undefined ? {} : { imageDirectory: options.imageDirectory }),
  });
};

/**
 * Load the Qwen2.5-VL processor of a checkpoint (or processor) directory: `tokenizer.json` +
 * `tokenizer_config.json` (any HF tokenizer that has the Qwen special tokens as added tokens),
 * `preprocessor_config.json` (optional: Qwen2.5-VL's published settings without it), the chat template
 * (`chat_template.jinja` / `chat_template.json` / `tokenizer_config.json`, else Qwen2.5-VL's), and
 * `config.json` (optional: its vision token ids are checked against the tokenizer's).
 *
 * @example
 * const processor = await loadQwenVLProcessor("./Qwen2.5-VL-3B-Instruct", { maxPixels: 1280 * 28 * 28 });
 * const { inputIds, pixelValues, pixelValuesShape, imageGridThw } = processor.encode([
 *   { role: "user", content: [{ type: "image", image: "cat.png" }, { type: "text", text: "What is this?" }] },
 * ]);
 * @since 0.1.0
 * @category processor
 */
export const loadQwenVLProcessor = async (
  directory: string,
  options: QwenVLProcessorOptions = {},
): Promise<QwenVLProcessorShape> => loadSync(directory, options);

/** Run a synchronous processor call: its tagged errors fail the Effect, anything else is a defect. */
const attempt = <A>(run: () => A): Effect.Effect<A, QwenVLProcessorError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(run());
    } catch (error) {
      return isQwenVLProcessorError(error) ? Effect.fail(error) : Effect.die(error);
    }
  });

/**
 * The processor as an Effect service: `QwenVLProcessor.layer(directory, options)` loads it once;
 * `encode` and `processImages` return Effects that fail with the tagged errors.
 *
 * @since 0.1.0
 * @category processor
 */
export class QwenVLProcessor extends Context.Service<
  QwenVLProcessor,
  {
    readonly processor: QwenVLProcessorShape;
    readonly encode: (
      messages: ReadonlyArray<ChatMessage>,
      images?: ReadonlyArray<ImageInput>,
      options?: EncodeOptions,
    ) => Effect.Effect<EncodedPrompt, QwenVLProcessorError>;
    readonly processImages: (
      images: ReadonlyArray<ImageInput>,
      options?: Pick<EncodeOptions, "sample">,
    ) => Effect.Effect<ProcessedImages, QwenVLProcessorError>;
  }
>()("@apo-rl/qwen-vl/QwenVLProcessor") {
  /** Load a processor directory as the service's value. */
  static readonly make = (directory: string, options: QwenVLProcessorOptions = {}) =>
    attempt(() => loadSync(directory, options)).pipe(
      Effect.map((processor) => ({
        processor,
        encode: (
          messages: ReadonlyArray<ChatMessage>,
          images?: ReadonlyArray<ImageInput>,
          encodeOptions?: EncodeOptions,
        ) => attempt(() => processor.encode(messages, images, encodeOptions)),
        processImages: (images: ReadonlyArray<ImageInput>, imageOptions?: Pick<EncodeOptions, "sample">) =>
          attempt(() => processor.processImages(images, imageOptions)),
      })),
    );

  /** A layer that loads the processor of `directory` once. */
  static readonly layer = (directory: string, options: QwenVLProcessorOptions = {}) =>
    Layer.effect(QwenVLProcessor, QwenVLProcessor.make(directory, options));
}
