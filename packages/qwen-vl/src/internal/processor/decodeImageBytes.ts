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

/** What pngjs's synchronous reader returns with `skipRescale`. */
interface PngRead {
  readonly width: number;
  readonly height: number;
  /** Bits per sample: 1, 2, 4, 8 or 16. */
  readonly depth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA. */
  readonly colorType: number;
  /** The tRNS colour of a grey or RGB image, in raw sample units. */
  readonly transColor?: ReadonlyArray<number>;
  /** RGBA samples, unscaled (`Uint16Array` for 16-bit images); palette images already looked up. */
  readonly data: ArrayLike<number>;
}

/**
 * How PIL maps one raw sample to 8 bits before `convert("RGB")`: low-depth grey is stretched
 * (`L;2` → ×85, `L;4` → ×17, mode `1` → ×255); 16-bit colour keeps the high byte (`RGB;16B`);
 * 16-bit grey opens as mode `I;16`, whose conversion to RGB saturates values above 255.
 */
const sampleMapping = (depth: number, colorType: number): ((sample: number) => number) => {
  if (depth === 16) return colorType === 0 ? (sample) => Math.min(sample, 255) : (sample) => sample >> 8;
  if (depth < 8 && colorType !== 3) return (sample) => (sample * 255) / (2 ** depth - 1);
  return (sample) => sample;
};

/**
 * Decode a PNG to 8-bit RGB exactly as PIL's `Image.open(...).convert("RGB")`: grey and palette images
 * expanded, alpha dropped (not composited), and a tRNS-transparent pixel keeps its colour (pngjs zeroes
 * it; PIL only records transparency, which `convert("RGB")` discards).
 */
const decodePng = (bytes: Uint8Array): RawImage => {
  const png = PNG.sync.read(asBuffer(bytes), { skipRescale: true }) as unknown as PngRead;
  const { width, height, data, transColor } = png;
  const map = sampleMapping(png.depth, png.colorType);
  const restore = transColor !== undefined && (png.colorType === 0 || png.colorType === 2);
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    const transparent = restore && data[i + 3] === 0;
    for (let c = 0; c < 3; c++) {
      const raw = transparent ? transColor![png.colorType === 0 ? 0 : c]! : data[i + c]!;
      rgb[j + c] = map(raw);
    }
  }
  return { width, height, data: rgb };
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
