import { PNG } from "pngjs";

/** Encode `height × width × 3` RGB bytes as an 8-bit RGB PNG. */
export const encodeRgbPng = (width: number, height: number, rgb: Uint8Array): Uint8Array => {
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  const encoded = PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
  return new Uint8Array(encoded.buffer.slice(encoded.byteOffset, encoded.byteOffset + encoded.byteLength));
};
