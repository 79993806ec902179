import type { RawImage } from "@apo-rl/core";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];

const startsWith = (bytes: Uint8Array, signature: ReadonlyArray<number>): boolean =>
  bytes.length >= signature.length && signature.every((byte, i) => bytes[i] === byte);

/** The container format of encoded image bytes, from their signature. */
export const sniffImageFormat = (bytes: Uint8Array): "png" | "jpeg" | undefined => {
  if (startsWith(bytes, PNG_SIGNATURE)) return "png";
  if (startsWith(bytes, JPEG_SIGNATURE)) return "jpeg";
  return undefined;
};

/** Keep R, G, B of RGBA pixels: PIL's `convert("RGB")` drops alpha without compositing. */
const dropAlpha = (rgba: Uint8Array, width: number, height: number): Uint8Array => {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    rgb[j] = rgba[i]!;
    rgb[j + 1] = rgba[i + 1]!;
    rgb[j + 2] = rgba[i + 2]!;
  }
  return rgb;
};

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * Decode a PNG to 8-bit RGB. pngjs expands grey, grey+alpha and palette images to RGBA (grey is
 * replicated, palette entries looked up), as PIL does before `convert("RGB")`; alpha is then dropped.
 */
const decodePng = (bytes: Uint8Array): RawImage => {
  const png = PNG.sync.read(asBuffer(bytes));
  return { width: png.width, height: png.height, data: dropAlpha(png.data, png.width, png.height) };
};

/** Decode a baseline or progressive JPEG to 8-bit RGB (grey and CMYK/YCCK are converted to RGB). */
const decodeJpeg = (bytes: Uint8Array): RawImage => {
  const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  return { width: image.width, height: image.height, data: dropAlpha(image.data, image.width, image.height) };
};

/** Decode PNG or JPEG bytes to RGB; throws a plain `Error` with the decoder's reason otherwise. */
export const decodeImageBytes = (bytes: Uint8Array): RawImage => {
  const format = sniffImageFormat(bytes);
  if (format === "png") return decodePng(bytes);
  if (format === "jpeg") return decodeJpeg(bytes);
  throw new Error("not a PNG or JPEG file (unknown signature)");
};
