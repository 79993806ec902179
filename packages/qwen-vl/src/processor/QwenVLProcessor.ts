import { join } from "node:path";
import {
  type ChatMessage,
  ChatMessage as ChatMessageSchema,
  decodeSync,
  type GenerationRequest,
  type ImageInput,
} from "@apo-rl/core";
import { Context, Effect, Layer, Schema } from "effect";
import { isRecord, readOptionalJson } from "../internal/processor/readJsonFile.js";
import {
  type ChatTemplate,
  type ChatTemplateOptions,
  compileChatTemplate,
  readChatTemplate,
} from "./chatTemplate.js";
import {
  ImageCountMismatchError,
  isQwenVLProcessorError,
  ProcessorConfigError,
  type QwenVLProcessorError,
} from "./errors.js";
import {
  type ImageProcessorConfig,
  type PixelBudget,
  readImageProcessorConfig,
} from "./ImageProcessorConfig.js";
import { type ProcessedImages, processImages } from "./processImages.js";
import { loadQwenVLTokenizer, type QwenVLSpecialTokens, type QwenVLTokenizer } from "./QwenVLTokenizer.js";

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

/**
 * Per-call options of `encode`, `encodeText` and `processImages`.
 *
 * @since 0.1.0
 * @category processor
 */
export interface EncodeOptions {
  /** Names the sample (e.g. its prompt id) in errors. */
  readonly sample?: string;
  /** Append `<|im_start|>assistant\n` (default `true` for `encode`: the prompt of a generation). */
  readonly addGenerationPrompt?: boolean;
  /** Label images `Picture N: ` in the chat template. */
  readonly addVisionId?: boolean;
}

/**
 * A tokenised prompt with its images: the model's inputs. Plain arrays; nothing to dispose.
 *
 * @since 0.1.0
 * @category processor
 */
export interface EncodedPrompt extends ProcessedImages {
  /** Token ids, each image's `<|image_pad|>` expanded to `t·h·w / mergeSize²` copies. */
  readonly inputIds: Int32Array;
  /** All ones (no padding is added), same length as `inputIds`. */
  readonly attentionMask: Int32Array;
  /** The rendered prompt before the image pads were expanded. */
  readonly text: string;
}

/**
 * The Qwen2.5-VL processor: tokenizer, chat template and image processor (HF `Qwen2_5_VLProcessor`).
 * All methods are synchronous and throw the tagged errors of {@link QwenVLProcessorError}.
 *
 * @since 0.1.0
 * @category processor
 */
export interface QwenVLProcessorShape {
  readonly tokenizer: QwenVLTokenizer;
  readonly specialTokens: QwenVLSpecialTokens;
  readonly imageProcessorConfig: ImageProcessorConfig;
  readonly chatTemplate: ChatTemplate;
  /** Render messages with the chat template (no tokenisation, one `<|image_pad|>` per image). */
  applyChatTemplate(messages: ReadonlyArray<ChatMessage>, options?: ChatTemplateOptions): string;
  /** Load, resize, normalise and patchify images (concatenated along the patch rows). */
  processImages(images: ReadonlyArray<ImageInput>, options?: Pick<EncodeOptions, "sample">): ProcessedImages;
  /**
   * Render, tokenise and attach images. `images` defaults to the `image` fields of the messages' image
   * parts, in order; their count must equal the number of `<|image_pad|>` placeholders.
   */
  encode(
    messages: ReadonlyArray<ChatMessage>,
    images?: ReadonlyArray<ImageInput>,
    options?: EncodeOptions,
  ): EncodedPrompt;
  /** `encode` of a core generation request: its messages and images, errors naming its `promptId`. */
  encodeRequest(request: GenerationRequest, options?: Omit<EncodeOptions, "sample">): EncodedPrompt;
  /** Tokenise an already rendered prompt (with one `<|image_pad|>` per image) and attach its images. */
  encodeText(
    text: string,
    images?: ReadonlyArray<ImageInput>,
    options?: Pick<EncodeOptions, "sample">,
  ): EncodedPrompt;
  decode(ids: ArrayLike<number>, options?: { readonly skipSpecialTokens?: boolean }): string;
}

const decodeMessages = decodeSync(Schema.Array(ChatMessageSchema), "chat messages");

const imagesOfMessages = (messages: ReadonlyArray<ChatMessage>): Array<string> =>
  messages.flatMap((message) =>
    typeof message.content === "string"
      ? []
      : message.content.flatMap((part) => (part.type === "image" ? [part.image] : [])),
  );

/** Replace the j-th image placeholder id by `counts[j]` copies of it. */
const expandImagePads = (
  ids: ReadonlyArray<number>,
  imagePad: number,
  counts: ReadonlyArray<number>,
): Int32Array => {
  const total = ids.length + counts.reduce((sum, count) => sum + count - 1, 0);
  const out = new Int32Array(total);
  let position = 0;
  let image = 0;
  for (const id of ids) {
    const copies = id === imagePad ? counts[image++]! : 1;
    out.fill(id, position, position + copies);
    position += copies;
  }
  return out;
};

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
 *
 * @since 0.1.0
 * @category processor
 */
export const makeQwenVLProcessor = (parts: {
  readonly tokenizer: QwenVLTokenizer;
  readonly imageProcessorConfig: ImageProcessorConfig;
  readonly chatTemplate: ChatTemplate;
  readonly imageDirectory?: string;
}): QwenVLProcessorShape => {
  const { tokenizer, imageProcessorConfig, chatTemplate } = parts;
  const { imagePad } = tokenizer.specialTokens;
  const imageContext = (sample: string | undefined) => ({
    ...(sample === undefined ? {} : { sample }),
    ...(parts.imageDirectory === undefined ? {} : { baseDirectory: parts.imageDirectory }),
  });
  const applyChatTemplate = (
    messages: ReadonlyArray<ChatMessage>,
    options: ChatTemplateOptions = {},
  ): string =>
    chatTemplate.render(decodeMessages(messages), {
      ...options,
      variables: { ...tokenizer.templateTokens, ...options.variables },
    });
  const encodeText = (
    text: string,
    images: ReadonlyArray<ImageInput> = [],
    options: Pick<EncodeOptions, "sample"> = {},
  ): EncodedPrompt => {
    const ids = tokenizer.encode(text);
    const placeholders = ids.filter((id) => id === imagePad).length;
    if (placeholders !== images.length) {
      throw new ImageCountMismatchError({
        ...(options.sample === undefined ? {} : { sample: options.sample }),
        placeholders,
        images: images.length,
        reason:
          placeholders > images.length
            ? "more <|image_pad|> placeholders than images"
            : "more images than <|image_pad|> placeholders",
      });
    }
    const processed = processImages(images, imageProcessorConfig, imageContext(options.sample));
    const inputIds = expandImagePads(ids, imagePad, processed.imageTokenCounts);
    return { ...processed, inputIds, attentionMask: new Int32Array(inputIds.length).fill(1), text };
  };
  const encode = (
    messages: ReadonlyArray<ChatMessage>,
    images?: ReadonlyArray<ImageInput>,
    options: EncodeOptions = {},
  ): EncodedPrompt => {
    const text = applyChatTemplate(messages, {
      addGenerationPrompt: options.addGenerationPrompt ?? true,
      addVisionId: options.addVisionId ?? false,
    });
    return encodeText(text, images ?? imagesOfMessages(messages), options);
  };
  return {
    tokenizer,
    specialTokens: tokenizer.specialTokens,
    imageProcessorConfig,
    chatTemplate,
    applyChatTemplate,
    processImages: (images, options = {}) =>
      processImages(images, imageProcessorConfig, imageContext(options.sample)),
    encode,
    encodeRequest: (request, options = {}) =>
      encode(request.messages, request.images, { ...options, sample: request.promptId }),
    encodeText,
    decode: (ids, options) => tokenizer.decode(ids, options),
  };
};

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
