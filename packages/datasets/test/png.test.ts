import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { encodeRgbPng } from "../src/internal/png.js";

describe("encodeRgbPng", () => {
  it("round-trips RGB pixels through pngjs's decoder", () => {
    const width = 5;
    const height = 4;
    const rgb = Uint8Array.from({ length: width * height * 3 }, (_, index) => (index * 37) % 256);
    const decoded = PNG.sync.read(Buffer.from(encodeRgbPng(width, height, rgb)));
    expect([decoded.width, decoded.height]).toEqual([width, height]);
    const back = Array.from({ length: width * height }, (_, pixel) =>
      [0, 1, 2].map((c) => decoded.data[pixel * 4 + c]),
    );
    const expected = Array.from({ length: width * height }, (_, pixel) =>
      [0, 1, 2].map((c) => rgb[pixel * 3 + c]),
    );
    expect(back).toEqual(expected);
  });
});
