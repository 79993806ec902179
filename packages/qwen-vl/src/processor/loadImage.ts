import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ImageInput, RawImage } from "@apo-rl/core";
import { decodeImageBytes } from "../internal/processor/decodeImageBytes.js";
import { ImageDecodeError, ImageNotFoundError } from "./errors.js";
import { checkSize, type ImageContext, isRawImage, withSample } from "./rawImage.js";

export type { ImageContext } from "./rawImage.js";

const describeBytes = (bytes: Uint8Array, context: ImageContext): string =>
  `images[${context.index ?? 0}] (${bytes.length} bytes)`;

/**
 * Decode PNG or JPEG bytes to 8-bit RGB (the format is taken from the signature), naming `source` in
 * the error when they are not a decodable image.
 *
 * @throws {ImageDecodeError | InvalidImageError}
 * @since 0.1.0
 * @category image processing
 */
export const decodeImage = (bytes: Uint8Array, source: string, context: ImageContext = {}): RawImage => {
  let image: RawImage;
  try {
    image = decodeImageBytes(bytes);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ImageDecodeError({ source, ...withSample(context), reason });
  }
  return checkSize(image, source, context);
};

const readBytes = (path: string, source: string, context: ImageContext): Uint8Array => {
  try {
    return readFileSync(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? `no such file ${path}`
        : code === "EISDIR"
          ? `${path} is a directory`
          : String(cause);
    throw new ImageNotFoundError({ source, ...withSample(context), reason });
  }
};

const DATA_URL = /^data:image\/[a-z+.-]+;base64,/i;

const loadFromString = (input: string, context: ImageContext): RawImage => {
  if (DATA_URL.test(input)) {
    const source = `${input.slice(0, 32)}…`;
    return decodeImage(Buffer.from(input.replace(DATA_URL, ""), "base64"), source, context);
  }
  if (/^https?:\/\//i.test(input)) {
    throw new ImageNotFoundError({
      source: input,
      ...withSample(context),
      reason: "remote URLs are not fetched; download the image and pass its path or bytes",
    });
  }
  const path = input.startsWith("file:")
    ? fileURLToPath(input)
    : isAbsolute(input)
      ? input
      : resolve(context.baseDirectory ?? process.cwd(), input);
  return decodeImage(readBytes(path, input, context), input, context);
};

/**
 * Load one image as 8-bit RGB, like PIL's `Image.open(...).convert("RGB")`: a file path (relative to
 * `context.baseDirectory`), a `file://` URL, a `data:image/…;base64,` URL, PNG/JPEG bytes, or raw RGB
 * pixels (checked: positive size, `width · height · 3` bytes). Alpha is dropped, grey and palette
 * images are expanded. Synchronous.
 *
 * @throws {ImageNotFoundError} a missing or unreadable file, or a remote URL.
 * @throws {ImageDecodeError} bytes that are not a decodable PNG or JPEG.
 * @throws {InvalidImageError} a zero-sized image or raw pixels of the wrong length.
 * @since 0.1.0
 * @category image processing
 */
export const loadImage = (input: ImageInput, context: ImageContext = {}): RawImage => {
  if (typeof input === "string") return loadFromString(input, context);
  if (isRawImage(input)) return checkSize(input, `images[${context.index ?? 0}] (raw pixels)`, context);
  return decodeImage(input, describeBytes(input, context), context);
};
