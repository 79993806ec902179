import {
  type ChatMessage,
  ChatMessage as ChatMessageSchema,
  decodeSync,
  type GenerationRequest,
  type ImageInput,
} from "@apo-rl/core";
import { Schema } from "effect";
import type { ChatTemplate, ChatTemplateOptions } from "./chatTemplate.js";
import { ImageCountMismatchError } from "./errors.js";
import type { ImageProcessorConfig } from "./ImageProcessorConfig.js";
import { type ProcessedImages, processImagesWith } from "./processImagesWith.js";
import type { QwenVLSpecialTokens, QwenVLTokenizer } from "./QwenVLTokenizer.js";
import { type ImageLoader, loadRawImage } from "./rawImage.js";

/**
 * The parts a processor is assembled from.
 *
 * @since 0.2.0
 * @category processor
 */
export interface QwenVLProcessorParts {
  readonly tokenizer: QwenVLTokenizer;
  readonly imageProcessorConfig: ImageProcessorConfig;
  readonly chatTemplate: ChatTemplate;
  /** Relative image paths resolve against it (Node's image loader). */
  readonly imageDirectory?: string;
  /** Replaces the image loader (default: `loadImage` in Node, `loadRawImage` without it). */
  readonly loadImage?: ImageLoader;
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

/**
 * Assemble a processor from its parts, loading images with `loadImage` (`makeQwenVLProcessor` of
 * the Node entry passes `loadImage`, the portable one `loadRawImage`).
 *
 * @since 0.2.0
 * @category processor
 */
export const assembleQwenVLProcessor = (
  parts: QwenVLProcessorParts,
  loadImage: ImageLoader,
): QwenVLProcessorShape => {
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
    const processed = processImagesWith(
      images,
      imageProcessorConfig,
      imageContext(options.sample),
      loadImage,
    );
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
      processImagesWith(images, imageProcessorConfig, imageContext(options.sample), loadImage),
    encode,
    encodeRequest: (request, options = {}) =>
      encode(request.messages, request.images, { ...options, sample: request.promptId }),
    encodeText,
    decode: (ids, options) => tokenizer.decode(ids, options),
  };
};

/**
 * Assemble a processor from its parts without Node: images must be raw RGB pixels
 * (`loadRawImage`) unless `parts.loadImage` says otherwise.
 *
 * @since 0.2.0
 * @category processor
 */
export const makePortableQwenVLProcessor = (parts: QwenVLProcessorParts): QwenVLProcessorShape =>
  assembleQwenVLProcessor(parts, parts.loadImage ?? loadRawImage);
