import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { imageHeader, readImageHeader } from "../src/index.js";
import { encodeRgbPng } from "../src/internal/png.js";

/** A hand-assembled JPEG prefix: SOI, an APP0 segment, a DHT-marker decoy, then a SOF2 frame header. */
const jpegPrefix = (width: number, height: number): Uint8Array =>
  Uint8Array.from([
    ...[0xff, 0xd8],
    // APP0 "JFIF", length 16.
    ...[
      0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
      0x00,
    ],
    // DHT (0xC4) is not a frame header even though it lies in 0xC0–0xCF; length 4, two payload bytes.
    ...[0xff, 0xc4, 0x00, 0x04, 0x00, 0x00],
    // SOF2 (progressive): length 17, precision 8, height, width, 3 components.
    ...[0xff, 0xc2, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x03],
    ...[0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01],
  ]);

describe("imageHeader", () => {
  it("reads a PNG's size from its IHDR, even when the pixel data is cut off", () => {
    const png = encodeRgbPng(7, 3, new Uint8Array(7 * 3 * 3));
    expect(imageHeader(png)).toEqual({ ok: true, format: "png", width: 7, height: 3 });
    expect(imageHeader(png.subarray(0, 40))).toEqual({ ok: true, format: "png", width: 7, height: 3 });
    expect(imageHeader(png.subarray(0, 20))).toEqual({
      ok: false,
      reason: "truncated PNG (no complete IHDR chunk)",
    });
    const renamed = png.slice();
    renamed.set([0x49, 0x44, 0x41, 0x54], 12); // "IDAT" where IHDR belongs
    expect(imageHeader(renamed)).toMatchObject({ ok: false, reason: expect.stringContaining("IHDR") });
  });

  it("reads a JPEG's size from its first start-of-frame segment", () => {
    expect(imageHeader(jpegPrefix(640, 480))).toEqual({ ok: true, format: "jpeg", width: 640, height: 480 });
    expect(imageHeader(jpegPrefix(60000, 60000))).toEqual({
      ok: true,
      format: "jpeg",
      width: 60000,
      height: 60000,
    });
    expect(imageHeader(jpegPrefix(640, 480).subarray(0, 26))).toMatchObject({
      ok: false,
      reason: "truncated JPEG (no frame header found)",
    });
    expect(imageHeader(jpegPrefix(0, 480))).toEqual({
      ok: false,
      reason: "the JPEG header gives a size of 0×480",
    });
  });

  it("rejects other formats; readImageHeader reads files", async () => {
    expect(imageHeader(new TextEncoder().encode("GIF89a…"))).toEqual({
      ok: false,
      reason: "not a PNG or JPEG file (unknown signature)",
    });
    const directory = mkdtempSync(join(tmpdir(), "apo-header-"));
    writeFileSync(join(directory, "a.png"), encodeRgbPng(4, 9, new Uint8Array(4 * 9 * 3)));
    expect(await readImageHeader(join(directory, "a.png"))).toMatchObject({ ok: true, width: 4, height: 9 });
    expect(await readImageHeader(join(directory, "missing.png"))).toMatchObject({
      ok: false,
      reason: expect.stringContaining("cannot read"),
    });
  });
});
