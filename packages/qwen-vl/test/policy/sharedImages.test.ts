import { describe, expect, it } from "vitest";
import { sharedImages } from "../../src/internal/policy/sharedImages.js";

describe("sharedImages", () => {
  // Two images: A with grid [1, 4, 4] (4 feature rows after a 2×2 merge), B with [1, 2, 4] (2 rows).
  const pixelsA = Float32Array.from({ length: 16 * 3 }, (_, index) => index);
  const pixelsB = Float32Array.from({ length: 8 * 3 }, (_, index) => -index);
  const a = { pixelValues: pixelsA, imageGridThw: [[1, 4, 4]] as const };
  const b = { pixelValues: pixelsB, imageGridThw: [[1, 2, 4]] as const };
  const text = {};

  it("runs each distinct image once and maps every image token to its feature row", () => {
    // Rows: A, text, B, A (same array, another object), B.
    const shared = sharedImages([a, text, b, { ...a }, b], 2)!;
    expect(shared.repeated).toBe(true);
    expect(Array.from(shared.pixelValues)).toEqual([...pixelsA, ...pixelsB]);
    expect(shared.distinctGrids).toEqual([
      [1, 4, 4],
      [1, 2, 4],
    ]);
    // M-RoPE needs every row's grid, in row order.
    expect(shared.imageGridThw).toEqual([
      [1, 4, 4],
      [1, 2, 4],
      [1, 4, 4],
      [1, 2, 4],
    ]);
    // A's features are rows 0–3 of the distinct features, B's rows 4–5.
    expect(Array.from(shared.featureRows)).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
  });

  it("keeps a batch of distinct images as it is", () => {
    const shared = sharedImages([b, a], 2)!;
    expect(shared.repeated).toBe(false);
    expect(Array.from(shared.pixelValues)).toEqual([...pixelsB, ...pixelsA]);
    expect(Array.from(shared.featureRows)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("has nothing to share without images", () => {
    expect(sharedImages([text, text], 2)).toBeUndefined();
  });
});
