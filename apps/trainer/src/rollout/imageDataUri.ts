import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { crc32, deflateSync } from "node:zlib";
import type { ImageInput, RawImage } from "@apo-rl/core";
import { RolloutServiceError } from "./errors.js";

const isPng = (bytes: Uint8Array) =>
  bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
const isJpeg = (bytes: Uint8Array) => bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;

const chunk = (type: string, data: Uint8Array): Buffer => {
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, checksum]);
};

/** 8-bit RGB PNG of raw pixels (filter 0 on every row). */
const encodePng = (image: RawImage): Buffer => {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(image.width, 0);
  header.writeUInt32BE(image.height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const stride = image.width * 3;
  const rows = Buffer.alloc((stride + 1) * image.height);
  for (let row = 0; row < image.height; row++)
    rows.set(image.data.subarray(row * stride, (row + 1) * stride), row * (stride + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", new Uint8Array(0)),
  ]);
};

const dataUri = (bytes: Uint8Array, source: string): string => {
  const mime = isPng(bytes) ? "image/png" : isJpeg(bytes) ? "image/jpeg" : undefined;
  if (mime === undefined)
    throw new RolloutServiceError({ server: null, reason: `${source} is neither PNG nor JPEG` });
  return `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64")}`;
};

/**
 * An image of a generation request as the `data:image/…;base64,` URI of an OpenAI `image_url`
 * part: PNG/JPEG bytes as they are, a path or `file://` URL read from disk, raw RGB pixels encoded
 * as PNG. Rollout servers fetch nothing: every image travels inline.
 *
 * @since 0.1.0
 * @category rollout
 */
export const imageDataUri = async (image: ImageInput): Promise<string> => {
  if (image instanceof Uint8Array) return dataUri(image, "an image given as bytes");
  if (typeof image === "string") {
    const path = image.startsWith("file://") ? fileURLToPath(image) : image;
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new RolloutServiceError({
        server: null,
        reason: `cannot read the image ${path}: ${(error as Error).message}`,
      });
    }
    return dataUri(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), path);
  }
  if (image.data.length !== image.width * image.height * 3)
    throw new RolloutServiceError({
      server: null,
      reason: `a raw image of ${image.width}×${image.height} needs ${image.width * image.height * 3} RGB bytes, got ${image.data.length}`,
    });
  return dataUri(encodePng(image), "a raw image");
};
