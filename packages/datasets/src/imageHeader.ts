import { open } from "node:fs/promises";

/**
 * What an image file's header says, read without decoding the pixels.
 *
 * @since 0.1.0
 * @category images
 */
export interface ImageHeader {
  readonly format: "png" | "jpeg";
  readonly width: number;
  readonly height: number;
}

/**
 * The header of encoded image bytes, or the reason it cannot be read.
 *
 * @since 0.1.0
 * @category images
 */
export type ImageHeaderResult =
  | ({ readonly ok: true } & ImageHeader)
  | { readonly ok: false; readonly reason: string };

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const startsWith = (bytes: Uint8Array, signature: ReadonlyArray<number>): boolean =>
  bytes.length >= signature.length && signature.every((byte, index) => bytes[index] === byte);

const uint32 = (bytes: Uint8Array, offset: number): number =>
  ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>>
  0;

const uint16 = (bytes: Uint8Array, offset: number): number => (bytes[offset]! << 8) | bytes[offset + 1]!;

const sized = (format: "png" | "jpeg", width: number, height: number): ImageHeaderResult =>
  width > 0 && height > 0
    ? { ok: true, format, width, height }
    : { ok: false, reason: `the ${format.toUpperCase()} header gives a size of ${width}×${height}` };

/** PNG: the first chunk must be a 13-byte IHDR holding width and height. */
const pngHeader = (bytes: Uint8Array): ImageHeaderResult => {
  if (bytes.length < 33) return { ok: false, reason: "truncated PNG (no complete IHDR chunk)" };
  const type = String.fromCharCode(...bytes.subarray(12, 16));
  if (uint32(bytes, 8) !== 13 || type !== "IHDR")
    return { ok: false, reason: "corrupt PNG: the first chunk is not a 13-byte IHDR" };
  return sized("png", uint32(bytes, 16), uint32(bytes, 20));
};

/** Start-of-frame markers (baseline, extended, progressive, lossless, arithmetic), not DHT/JPG/DAC. */
const isStartOfFrame = (marker: number): boolean =>
  marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/** JPEG: walk the marker segments to the first start-of-frame, which holds height and width. */
const jpegHeader = (bytes: Uint8Array): ImageHeaderResult => {
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return { ok: false, reason: `corrupt JPEG: no marker at byte ${offset}` };
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      offset += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda)
      return { ok: false, reason: "corrupt JPEG: image data before any frame header" };
    const length = uint16(bytes, offset + 2);
    if (length < 2) return { ok: false, reason: `corrupt JPEG: segment length ${length} at byte ${offset}` };
    if (isStartOfFrame(marker)) {
      if (offset + 9 > bytes.length) break;
      return sized("jpeg", uint16(bytes, offset + 7), uint16(bytes, offset + 5));
    }
    offset += 2 + length;
  }
  return { ok: false, reason: "truncated JPEG (no frame header found)" };
};

/**
 * Read the format and size of PNG or JPEG bytes from their header alone (no pixel is decoded), so
 * that a dataset can be checked at load: a corrupt header, another format or a zero size is a
 * reason; a truncated body is not detected here (only a full decode finds it).
 *
 * @example
 * imageHeader(pngBytes); // { ok: true, format: "png", width: 56, height: 56 }
 * @since 0.1.0
 * @category images
 */
export const imageHeader = (bytes: Uint8Array): ImageHeaderResult => {
  if (startsWith(bytes, PNG_SIGNATURE)) return pngHeader(bytes);
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return jpegHeader(bytes);
  return { ok: false, reason: "not a PNG or JPEG file (unknown signature)" };
};

/** What {@link readImageHeader} reads first, and at most: JPEG frame headers may follow large EXIF blocks. */
const FIRST_READ = 1 << 16;
const MOST_READ = 1 << 20;

/**
 * {@link imageHeader} of an image file, reading its first 64 KiB (up to its first MiB for a JPEG
 * whose frame header follows a large metadata block).
 *
 * @since 0.1.0
 * @category images
 */
export const readImageHeader = async (path: string): Promise<ImageHeaderResult> => {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, "r");
    let buffer = new Uint8Array(FIRST_READ);
    let { bytesRead } = await handle.read(buffer, 0, FIRST_READ, 0);
    let header = imageHeader(buffer.subarray(0, bytesRead));
    if (!header.ok && bytesRead === FIRST_READ && header.reason.startsWith("truncated")) {
      buffer = new Uint8Array(MOST_READ);
      ({ bytesRead } = await handle.read(buffer, 0, MOST_READ, 0));
      header = imageHeader(buffer.subarray(0, bytesRead));
    }
    return header;
  } catch (cause) {
    return { ok: false, reason: `cannot read ${path}: ${(cause as Error).message}` };
  } finally {
    await handle?.close();
  }
};
