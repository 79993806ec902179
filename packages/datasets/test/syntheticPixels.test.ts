import type { RawImage } from "@apo-rl/core";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { syntheticCountingTask } from "../src/index.js";
import { syntheticCountingTaskPixels } from "../src/portable.js";

/** The RGB pixels of an 8-bit RGB PNG, decoded by pngjs (independently of the renderer). */
const decodePng = (bytes: Uint8Array): RawImage => {
  const png = PNG.sync.read(Buffer.from(bytes));
  const data = new Uint8Array(png.width * png.height * 3);
  for (let pixel = 0; pixel < png.width * png.height; pixel++)
    data.set(png.data.subarray(4 * pixel, 4 * pixel + 3), 3 * pixel);
  return { width: png.width, height: png.height, data };
};

describe("syntheticCountingTaskPixels (the portable task)", () => {
  const cases = [
    { seed: 1, trainSize: 24, heldOutSize: 8, difficulty: 0.25, variant: "count", targetColors: ["red"] },
    { seed: 7, trainSize: 16, heldOutSize: 8, difficulty: 1, variant: "mixed", imageSize: 64 },
  ] as const;

  it.each(cases)("has the Node task's items, with the pixels its PNGs decode to (%o)", (options) => {
    const node = syntheticCountingTask(options);
    const portable = syntheticCountingTaskPixels(options);
    expect(portable.options).toEqual(node.options);
    for (const split of ["train", "heldOut"] as const) {
      expect(portable[split].length).toBe(node[split].length);
      portable[split].forEach((item, index) => {
        const reference = node[split][index]!;
        expect({ ...item, images: [] }).toEqual({ ...reference, images: [] });
        expect(item.images).toHaveLength(1);
        expect(item.images[0]).toEqual(decodePng(reference.images[0] as Uint8Array));
      });
    }
  });
});
