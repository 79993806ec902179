import { Schema } from "effect";

/**
 * A text part of a chat message.
 *
 * @since 0.1.0
 * @category messages
 */
export const TextPart = Schema.Struct({ type: Schema.Literal("text"), text: Schema.String });

/**
 * An image part of a chat message: a file path or `file://` URL (resolved by the policy's processor).
 *
 * @since 0.1.0
 * @category messages
 */
export const ImagePart = Schema.Struct({ type: Schema.Literal("image"), image: Schema.String });

/**
 * One chat message, as chat templates consume it.
 *
 * @since 0.1.0
 * @category messages
 */
export const ChatMessage = Schema.Struct({
  role: Schema.Literals(["system", "user", "assistant"]),
  content: Schema.Union([Schema.String, Schema.Array(Schema.Union([TextPart, ImagePart]))]),
});

/**
 * @since 0.1.0
 * @category messages
 */
export type ChatMessage = typeof ChatMessage.Type;

/**
 * Raw pixels for callers that already decoded an image: `data` is `height × width × 3` RGB bytes.
 *
 * @since 0.1.0
 * @category messages
 */
export interface RawImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * An image given to a policy: a path, a `file://` URL, encoded bytes (PNG/JPEG) or raw RGB pixels.
 *
 * @since 0.1.0
 * @category messages
 */
export type ImageInput = string | Uint8Array | RawImage;

/**
 * One prompt to sample responses for.
 *
 * @since 0.1.0
 * @category messages
 */
export interface GenerationRequest {
  readonly promptId: string;
  readonly messages: ReadonlyArray<ChatMessage>;
  /** Images in the order of the image parts of `messages`; paths may also come from the parts. */
  readonly images?: ReadonlyArray<ImageInput>;
}
