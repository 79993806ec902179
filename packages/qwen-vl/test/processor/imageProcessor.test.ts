import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { ImageSizeError } from "../../src/processor/errors.js";
import {
  decodeImageProcessorConfig,
  QWEN2_5_VL_IMAGE_PROCESSOR_CONFIG,
} from "../../src/processor/ImageProcessorConfig.js";
import { loadImage } from "../../src/processor/loadImage.js";
import { processImages } from "../../src/processor/processImages.js";
import { readImageProcessorConfig } from "../../src/processor/readImageProcessorConfig.js";
import { smartResize } from "../../src/processor/smartResize.js";

const fixtureDir = fileURLToPath(new URL("../fixtures-processor/", import.meta.url));
const fixture = JSON.parse(readFileSync(`${fixtureDir}fixture.json`, "utf8")) as {
  image: { file: string; height: number; width: number; smart_resize_hw: [number, number] };
  smart_resize_examples: ReadonlyArray<{
    h: number;
    w: number;
    min_pixels: number;
    max_pixels: number;
    out: [number, number];
  }>;
  inputs: { image_grid_thw: number[][]; pixel_values_shape: [number, number]; num_image_tokens: number };
};
const referencePixels = (): Float32Array => {
  const bytes = gunzipSync(readFileSync(`${fixtureDir}pixel_values.f32.gz`));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
};
const imagePath = `${fixtureDir}image.png`;
/** Byte-wise equality of two typed arrays (much faster than a deep equality on 100k elements). */
const same = (a: ArrayBufferView, b: ArrayBufferView): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const config = readImageProcessorConfig(fixtureDir);

describe("smartResize", () => {
  it("reproduces every smart_resize example of the HF fixture", () => {
    for (const example of fixture.smart_resize_examples) {
      const out = smartResize(example.h, example.w, {
        minPixels: example.min_pixels,
        maxPixels: example.max_pixels,
      });
      expect([...out], `${example.h}×${example.w}`).toEqual(example.out);
    }
  });

  it("rounds halves to even like Python and scales small images up (Appendix A)", () => {
    expect(smartResize(70, 98)).toEqual([56, 112]); // 2.5 → 2, 3.5 → 4
    expect(smartResize(30, 40)).toEqual([56, 84]);
    expect(smartResize(768, 1024)).toEqual([756, 1036]); // spec §3.2 worked example
    expect(smartResize(224, 224)).toEqual([224, 224]);
  });

  it("rejects a side under 28 and an aspect ratio over 200 with ImageSizeError", () => {
    expect(() => smartResize(27, 500)).toThrow(ImageSizeError);
    expect(() => smartResize(28, 5601)).toThrow(/aspect ratio/);
    expect(smartResize(28, 5600)).toEqual([28, 5600]);
  });
});

describe("image loading", () => {
  it("decodes image.png to the pixels of its formula", () => {
    const image = loadImage(imagePath);
    const { width, height } = fixture.image;
    expect([image.width, image.height]).toEqual([width, height]);
    for (const [x, y] of [
      [0, 0],
      [195, 139],
      [13, 7],
      [100, 50],
      [48, 131],
    ] as const) {
      const at = (y * width + x) * 3;
      const blue = (3 * x + 5 * y + 17 * (Math.floor(x / 7) ^ Math.floor(y / 7))) % 256;
      const expected = [Math.round((255 * x) / (width - 1)), Math.round((255 * y) / (height - 1)), blue];
      // Python rounds halves to even; no formula value here lands exactly on a half.
      expect(Array.from(image.data.slice(at, at + 3)), `pixel (${x}, ${y})`).toEqual(expected);
    }
  });

  it("reads a path, a file:// URL, bytes and raw pixels identically", () => {
    const fromPath = loadImage(imagePath);
    expect(same(loadImage(pathToFileURL(imagePath).href).data, fromPath.data)).toBe(true);
    expect(same(loadImage(readFileSync(imagePath)).data, fromPath.data)).toBe(true);
    expect(same(loadImage(new Uint8Array(readFileSync(imagePath))).data, fromPath.data)).toBe(true);
    expect(same(loadImage(fromPath).data, fromPath.data)).toBe(true);
    expect(same(loadImage("image.png", { baseDirectory: fixtureDir }).data, fromPath.data)).toBe(true);
    const dataUrl = `data:image/png;base64,${readFileSync(imagePath).toString("base64")}`;
    expect(same(loadImage(dataUrl).data, fromPath.data)).toBe(true);
  });

  it("drops alpha and expands grey like PIL convert('RGB')", () => {
    const rgba = new PNG({ width: 2, height: 1 });
    rgba.data.set([10, 20, 30, 0, 200, 100, 50, 128]);
    expect(Array.from(loadImage(PNG.sync.write(rgba)).data)).toEqual([10, 20, 30, 200, 100, 50]);
    const grey = new PNG({ width: 2, height: 1, colorType: 0, inputColorType: 0, inputHasAlpha: false });
    const greyBytes = PNG.sync.write(
      Object.assign(grey, { data: Buffer.from([77, 77, 77, 255, 9, 9, 9, 255]) }),
      { colorType: 0, inputHasAlpha: true },
    );
    expect(greyBytes[25]).toBe(0); // IHDR colour type 0: a real greyscale PNG
    expect(Array.from(loadImage(greyBytes).data)).toEqual([77, 77, 77, 9, 9, 9]);
  });
});

describe("processImages", () => {
  it("equals the HF pixel_values and image_grid_thw of image.png exactly", () => {
    const out = processImages([imagePath], config);
    expect(out.imageGridThw.map((g) => [...g])).toEqual(fixture.inputs.image_grid_thw);
    expect([...out.pixelValuesShape]).toEqual(fixture.inputs.pixel_values_shape);
    expect(out.imageTokenCounts).toEqual([fixture.inputs.num_image_tokens]);
    const reference = referencePixels();
    expect(out.pixelValues.length).toBe(reference.length);
    let mismatches = 0;
    for (let i = 0; i < reference.length; i++) if (out.pixelValues[i] !== reference[i]) mismatches++;
    expect(mismatches).toBe(0);
  });

  it("places pixel (c, y, x) at the merge-aware row and column of spec §3.2", () => {
    const image = loadImage(imagePath);
    const out = processImages([image], config);
    const [, gh, gw] = out.imageGridThw[0]!;
    const columns = out.pixelValuesShape[1];
    const mean = [0.48145466, 0.4578275, 0.40821073];
    const std = [0.26862954, 0.26130258, 0.27577711];
    for (const [c, y, x] of [
      [0, 0, 0],
      [2, 139, 195],
      [1, 29, 57],
      [0, 14, 13],
    ] as const) {
      const [patchRow, patchColumn] = [Math.floor(y / 14), Math.floor(x / 14)];
      const [bh, mh, bw, mw] = [
        Math.floor(patchRow / 2),
        patchRow % 2,
        Math.floor(patchColumn / 2),
        patchColumn % 2,
      ];
      const row = ((bh * (gw! / 2) + bw) * 2 + mh) * 2 + mw;
      const expected = (image.data[(y * image.width + x) * 3 + c]! / 255 - mean[c]!) / std[c]!;
      for (const tp of [0, 1]) {
        const k = ((c * 2 + tp) * 14 + (y % 14)) * 14 + (x % 14);
        expect(out.pixelValues[row * columns + k]).toBeCloseTo(expected, 6);
      }
    }
    expect(gh).toBe(10);
  });

  it("gives a 224×224 white image grid [1,16,16] and mean 2.050372 (transformers.js test)", () => {
    const white = { width: 224, height: 224, data: new Uint8Array(224 * 224 * 3).fill(255) };
    const out = processImages([white], QWEN2_5_VL_IMAGE_PROCESSOR_CONFIG);
    expect(out.imageGridThw).toEqual([[1, 16, 16]]);
    expect([...out.pixelValuesShape]).toEqual([256, 1176]);
    const mean = out.pixelValues.reduce((a, b) => a + b, 0) / out.pixelValues.length;
    expect(Math.abs(mean - 2.050372)).toBeLessThan(2e-6);
  });

  it("concatenates the patch rows of several images and resizes with smartResize", () => {
    const small = { width: 40, height: 30, data: new Uint8Array(40 * 30 * 3).fill(128) };
    const out = processImages([imagePath, small], config);
    expect(out.imageGridThw).toEqual([
      [1, 10, 14],
      [1, 4, 6],
    ]);
    expect(out.imageTokenCounts).toEqual([35, 6]);
    expect(out.pixelValuesShape[0]).toBe(140 + 24);
    const alone = processImages([imagePath], config);
    expect(same(out.pixelValues.subarray(0, alone.pixelValues.length), alone.pixelValues)).toBe(true);
    // the 40×30 grey image becomes 84×56 (spec Appendix A): every value is (128/255 − mean_c)/std_c
    const tail = out.pixelValues.subarray(alone.pixelValues.length);
    expect(tail[0]).toBeCloseTo((128 / 255 - 0.48145466) / 0.26862954, 6);
    expect(tail[tail.length - 1]).toBeCloseTo((128 / 255 - 0.40821073) / 0.27577711, 6);
  });

  it("honours min/max pixel overrides", () => {
    const bounded = readImageProcessorConfig(fixtureDir, { maxPixels: 56 * 56 });
    expect(processImages([imagePath], bounded).imageGridThw).toEqual([[1, 2, 4]]);
    // β = √(140·196/3136) = 2.958: ⌊140/2.958/28⌋·28 = ⌊1.69⌋·28 = 28, ⌊196/2.958/28⌋·28 = ⌊2.37⌋·28 = 56
    expect(smartResize(140, 196, { maxPixels: 56 * 56 })).toEqual([28, 56]);
    const raised = readImageProcessorConfig(fixtureDir, { minPixels: 200 * 300 });
    // β = √(60000/27440) = 1.4787: ⌈140·1.4787/28⌉·28 = ⌈7.39⌉·28 = 224, ⌈196·1.4787/28⌉·28 = ⌈10.35⌉·28 = 308
    expect(processImages([imagePath], raised).imageGridThw).toEqual([[1, 16, 22]]);
  });
});

describe("preprocessor_config.json", () => {
  it("reads the fixture file and falls back to Qwen2.5-VL's settings without one", () => {
    expect(config).toEqual(QWEN2_5_VL_IMAGE_PROCESSOR_CONFIG);
    expect(readImageProcessorConfig("/nonexistent-directory")).toEqual(QWEN2_5_VL_IMAGE_PROCESSOR_CONFIG);
  });

  it("takes the size.{shortest,longest}_edge form and names a bad field", () => {
    const fromSize = decodeImageProcessorConfig({ size: { shortest_edge: 100, longest_edge: 5000 } });
    expect([fromSize.minPixels, fromSize.maxPixels]).toEqual([100, 5000]);
    expect(() => decodeImageProcessorConfig({ patch_size: -3 })).toThrow(/patch_size/);
    expect(() => decodeImageProcessorConfig({ resample: 2 })).toThrow(/resample/);
  });
});
