import type { ChatMessage } from "@apo-rl/core";

/** Where each image part of `messages` sits, in order, as a field path under `prefix`. */
export const imagePartsOf = (
  messages: ReadonlyArray<ChatMessage>,
  prefix: string,
): ReadonlyArray<{ readonly reference: string; readonly field: string }> =>
  messages.flatMap((message, messageIndex) =>
    typeof message.content === "string"
      ? []
      : message.content.flatMap((part, partIndex) =>
          part.type === "image"
            ? [{ reference: part.image, field: `${prefix}[${messageIndex}].content[${partIndex}].image` }]
            : [],
        ),
  );

/** `messages` with the image parts' `image` replaced, in order, by `images`. */
export const withImages = (
  messages: ReadonlyArray<ChatMessage>,
  images: ReadonlyArray<string>,
): ReadonlyArray<ChatMessage> => {
  let next = 0;
  return messages.map((message) =>
    typeof message.content === "string"
      ? message
      : {
          role: message.role,
          content: message.content.map((part) =>
            part.type === "image" ? { type: "image" as const, image: images[next++] ?? part.image } : part,
          ),
        },
  );
};
