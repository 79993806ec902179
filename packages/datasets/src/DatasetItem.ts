import type { ChatMessage, GenerationRequest, ImageInput } from "@apo-rl/core";

/**
 * One example of a dataset, ready to become a policy's {@link GenerationRequest}.
 *
 * - `messages`: the chat, in `@apo-rl/core`'s `ChatMessage` shape. Image parts carry the resolved
 *   absolute path (readers) or the file name the image gets when written to disk (synthetic tasks).
 * - `images`: one entry per image part, in the order of the image parts: absolute paths for items
 *   read from files, PNG bytes for synthetic items.
 * - `answer`: the reference answer a verifier compares responses with.
 * - `row`: 1-based position in the source (the line number for JSONL, the element number for a
 *   View-R1 JSON array, the index + 1 within a synthetic split).
 *
 * @since 0.1.0
 * @category items
 */
export interface DatasetItem {
  readonly id: string;
  readonly messages: ReadonlyArray<ChatMessage>;
  readonly images: ReadonlyArray<ImageInput>;
  readonly answer: string;
  readonly category?: string;
  readonly row: number;
}

/**
 * The {@link GenerationRequest} a policy samples responses for: the item's id becomes the prompt id.
 *
 * @since 0.1.0
 * @category items
 */
export const toGenerationRequest = (item: DatasetItem): GenerationRequest => ({
  promptId: item.id,
  messages: item.messages,
  images: item.images,
});
