import { crc32, deflateSync } from "node:zlib";
import jpeg from "jpeg-js";
import { describe, expect, it } from "vitest";
import { ImageDecodeError } from "../../src/processor/errors.js";
import { loadImage } from "../../src/processor/loadImage.js";

/** A minimal PNG writer (signature, IHDR, optional chunks, one IDAT, IEND) independent of pngjs. */
const chunk = (type: string, body: Uint8Array): Buffer => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])) >>> 0, 0);
  return Buffer.concat([head, body, crc]);
};
const makePng = (
  width: number,
  height: number,
  depth: number,
  colorType: number,
  rows: ReadonlyArray<ReadonlyArray<number>>,
  extra: ReadonlyArray<Buffer> = [],
): Buffer => {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([depth, colorType, 0, 0, 0], 8);
  const raw = Buffer.concat(rows.map((row) => Buffer.from([0, ...row]))); // filter type 0 per row
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    ...extra,
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", new Uint8Array(0)),
  ]);
};
const u16 = (values: ReadonlyArray<number>): Array<number> => values.flatMap((v) => [v >> 8, v & 0xff]);
const pixels = (png: Buffer): Array<number> => Array.from(loadImage(png).data);

describe("PNG decoding matches PIL convert('RGB')", () => {
  it("8-bit RGB, RGBA (alpha dropped, not composited) and grey + alpha", () => {
    expect(pixels(makePng(2, 1, 8, 2, [[1, 2, 3, 250, 251, 252]]))).toEqual([1, 2, 3, 250, 251, 252]);
    expect(pixels(makePng(2, 1, 8, 6, [[10, 20, 30, 0, 40, 50, 60, 7]]))).toEqual([10, 20, 30, 40, 50, 60]);
    expect(pixels(makePng(2, 1, 8, 4, [[99, 0, 200, 255]]))).toEqual([99, 99, 99, 200, 200, 200]);
  });

  it("palette images look up their colours", () => {
    const palette = chunk("PLTE", Uint8Array.from([255, 0, 0, 0, 128, 255]));
    expect(pixels(makePng(3, 1, 8, 3, [[1, 0, 1]], [palette]))).toEqual([
      0, 128, 255, 255, 0, 0, 0, 128, 255,
    ]);
  });

  it("low-depth grey is stretched to 0–255 (1-bit ×255, 2-bit ×85, 4-bit ×17)", () => {
    expect(pixels(makePng(2, 1, 1, 0, [[0b10000000]]))).toEqual([255, 255, 255, 0, 0, 0]);
    expect(pixels(makePng(4, 1, 2, 0, [[0b00011011]]))).toEqual([
      0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255,
    ]);
    expect(pixels(makePng(2, 1, 4, 0, [[0x3f]]))).toEqual([51, 51, 51, 255, 255, 255]);
  });

  it("16-bit colour keeps the high byte; 16-bit grey saturates at 255 (PIL mode I;16)", () => {
    // 0x81C0 → 129 (not round(33216/257) = 129.2…) and 0x80FF → 128 (pngjs's rescale would give 129)
    expect(pixels(makePng(1, 1, 16, 2, [u16([0x81c0, 0x80ff, 0x00ff])]))).toEqual([0x81, 0x80, 0]);
    expect(pixels(makePng(1, 1, 16, 6, [u16([0xff00, 0x0100, 0x7fff, 0x0000])]))).toEqual([255, 1, 127]);
    expect(pixels(makePng(3, 1, 16, 0, [u16([17, 255, 256])]))).toEqual([
      17, 17, 17, 255, 255, 255, 255, 255, 255,
    ]);
  });

  it("a tRNS-transparent pixel keeps its colour", () => {
    const transparentRed = chunk("tRNS", Uint8Array.from(u16([200, 0, 0])));
    expect(pixels(makePng(2, 1, 8, 2, [[200, 0, 0, 1, 2, 3]], [transparentRed]))).toEqual([
      200, 0, 0, 1, 2, 3,
    ]);
    const transparentGrey = chunk("tRNS", Uint8Array.from(u16([2])));
    expect(pixels(makePng(2, 1, 2, 0, [[0b10010000]], [transparentGrey]))).toEqual([
      170, 170, 170, 85, 85, 85,
    ]);
  });

  it("a truncated PNG is an ImageDecodeError", () => {
    const png = makePng(2, 2, 8, 2, [
      [1, 2, 3, 4, 5, 6],
      [7, 8, 9, 10, 11, 12],
    ]);
    expect(() => loadImage(png.subarray(0, 40), { sample: "s" })).toThrow(ImageDecodeError);
  });
});

describe("JPEG decoding", () => {
  it("decodes a JPEG of flat colours to within the codec's error", () => {
    const width = 16;
    const height = 16;
    const rgba = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++)
      rgba.set(i % width < 8 ? [200, 40, 90, 255] : [20, 180, 240, 255], i * 4);
    const bytes = jpeg.encode({ width, height, data: rgba }, 100).data;
    const image = loadImage(new Uint8Array(bytes));
    expect([image.width, image.height]).toEqual([16, 16]);
    const at = (x: number, y: number) =>
      Array.from(image.data.slice((y * width + x) * 3, (y * width + x) * 3 + 3));
    const error = (got: ReadonlyArray<number>, want: ReadonlyArray<number>) =>
      Math.max(...got.map((v, c) => Math.abs(v - want[c]!)));
    expect(error(at(2, 5), [200, 40, 90])).toBeLessThanOrEqual(3);
    expect(error(at(13, 9), [20, 180, 240])).toBeLessThanOrEqual(3);
  });

  it("a JPEG cut short is an ImageDecodeError naming the bytes", () => {
    expect(() => loadImage(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]), { index: 3 })).toThrow(
      /images\[3\] \(6 bytes\)/,
    );
  });
});
