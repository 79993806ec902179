import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { resizeBicubic } from "../../src/processor/resizeBicubic.js";

interface PillowCase {
  readonly input: string;
  readonly width: number;
  readonly height: number;
  readonly data: ReadonlyArray<number>;
}
interface PillowFixture {
  readonly pillow: string;
  readonly inputs: Record<string, { width: number; height: number; data: ReadonlyArray<number> }>;
  readonly cases: ReadonlyArray<PillowCase>;
}

const fixture = JSON.parse(
  readFileSync(new URL("../fixtures-processor/pillow_resize.json", import.meta.url), "utf8"),
) as PillowFixture;

/** Keys cubic kernel, a = −0.5, written from its textbook definition. */
const cubic = (x: number): number => {
  const t = Math.abs(x);
  if (t < 1) return 1.5 * t ** 3 - 2.5 * t ** 2 + 1;
  if (t < 2) return -0.5 * t ** 3 + 2.5 * t ** 2 - 4 * t + 2;
  return 0;
};

/** One output sample of one pass, re-derived from Appendix A in float64 then rounded as Pillow does. */
const referenceSample = (row: ReadonlyArray<number>, outSize: number, i: number): number => {
  const scale = row.length / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const center = (i + 0.5) * scale;
  const first = Math.max(0, Math.trunc(center - support + 0.5));
  const last = Math.min(row.length, Math.trunc(center + support + 0.5));
  const weights: Array<number> = [];
  for (let j = first; j < last; j++) weights.push(cubic((j - center + 0.5) / filterScale));
  const total = weights.reduce((a, b) => a + b, 0);
  const fixed = weights.map((w) => Math.trunc((w / total) * 2 ** 22 + (w < 0 ? -0.5 : 0.5)));
  const sum = fixed.reduce((acc, k, j) => acc + row[first + j]! * k, 2 ** 21);
  return Math.min(255, Math.max(0, Math.floor(sum / 2 ** 22)));
};

const grey = (values: ReadonlyArray<number>) => ({
  width: values.length,
  height: 1,
  data: Uint8Array.from(values.flatMap((v) => [v, v, v])),
});
const firstChannel = (data: Uint8Array): Array<number> => Array.from(data.filter((_, i) => i % 3 === 0));

describe("resizeBicubic: hand-computed rows (Appendix A)", () => {
  it("halves a 4-pixel row [0, 100, 200, 255] to [60, 221]", () => {
    // Worked by hand. scale = 2, so the filter widens to support 4 and every output reads x = 0..3.
    // out0: centre 1.0, taps at (x − 1 + 0.5)/2 = −0.25, 0.25, 0.75, 1.25 →
    //   cubic = 0.8671875, 0.8671875, 0.2265625, −0.0703125 (sum 1.890625)
    //   (100·0.8671875 + 200·0.2265625 − 255·0.0703125) / 1.890625 = 114.1015625 / 1.890625 = 60.35 → 60
    // out1: centre 3.0, taps at −1.25, −0.75, −0.25, 0.25 (the mirror image) →
    //   (100·0.2265625 + 200·0.8671875 + 255·0.8671875) / 1.890625 = 417.2265625 / 1.890625 = 220.68 → 221
    const row = [0, 100, 200, 255];
    const out = firstChannel(resizeBicubic(grey(row), 1, 2).data);
    expect(out).toEqual([60, 221]);
    expect(out).toEqual([referenceSample(row, 2, 0), referenceSample(row, 2, 1)]);
  });

  it("stretches a 2-pixel row [10, 250] to [0, 130, 255], clamping the overshoot", () => {
    // Worked by hand. scale = 2/3, no widening (support 2); centres 1/3, 1, 5/3.
    // out0: taps at 1/6 and 7/6 → cubic 0.9375 and −0.0578704 (sum 0.8796296):
    //   (10·0.9375 − 250·0.0578704) / 0.8796296 = −5.79 → clamped to 0
    // out1: taps at ±0.5 → 0.5625 each → (10 + 250) / 2 = 130
    // out2: mirror of out0: (−10·0.0578704 + 250·0.9375) / 0.8796296 = 265.8 → clamped to 255
    const row = [10, 250];
    const out = firstChannel(resizeBicubic(grey(row), 1, 3).data);
    expect(out).toEqual([0, 130, 255]);
    expect(out).toEqual([0, 1, 2].map((i) => referenceSample(row, 3, i)));
  });

  it("keeps a constant image constant and clamps overshoot at hard edges", () => {
    const flat = resizeBicubic(grey([77, 77, 77, 77, 77]), 1, 3);
    expect(firstChannel(flat.data)).toEqual([77, 77, 77]);
    // An upscaled step overshoots below 0 and above 255 in float arithmetic: clamped.
    const step = firstChannel(resizeBicubic(grey([0, 0, 255, 255]), 1, 9).data);
    expect(Math.min(...step)).toBe(0);
    expect(Math.max(...step)).toBe(255);
    expect(step).toEqual(Array.from({ length: 9 }, (_, i) => referenceSample([0, 0, 255, 255], 9, i)));
  });

  it("matches the float64 re-derivation on random rows, both directions", () => {
    let state = 12345;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return (state >> 16) % 256;
    };
    for (const [inSize, outSize] of [
      [7, 3],
      [5, 12],
      [64, 9],
      [9, 64],
      [28, 28 * 3 - 1],
    ] as const) {
      const row = Array.from({ length: inSize }, random);
      const out = firstChannel(resizeBicubic(grey(row), 1, outSize).data);
      expect(out).toEqual(Array.from({ length: outSize }, (_, i) => referenceSample(row, outSize, i)));
    }
  });

  it("does the horizontal pass first, into 8-bit values, then the vertical pass", () => {
    // 2D case: rounding the horizontal result to uint8 before the vertical pass is part of the
    // algorithm; re-derive it with the one-dimensional reference applied row- then column-wise.
    const width = 6;
    const height = 5;
    const values = Array.from({ length: width * height }, (_, i) => (i * 97 + 31) % 256);
    const image = {
      width,
      height,
      data: Uint8Array.from(values.flatMap((v) => [v, 255 - v, (v * 3) % 256])),
    };
    const out = resizeBicubic(image, 3, 4);
    const rows = Array.from({ length: height }, (_, y) =>
      Array.from({ length: 4 }, (_, x) => referenceSample(values.slice(y * width, (y + 1) * width), 4, x)),
    );
    const expected = Array.from({ length: 3 }, (_, y) =>
      Array.from({ length: 4 }, (_, x) =>
        referenceSample(
          rows.map((r) => r[x]!),
          3,
          y,
        ),
      ),
    ).flat();
    expect(firstChannel(out.data)).toEqual(expected);
  });
});

describe("resizeBicubic: Pillow reference outputs", () => {
  for (const testCase of fixture.cases) {
    it(`${testCase.input} → ${testCase.width}×${testCase.height} equals Pillow ${fixture.pillow} bit for bit`, () => {
      const input = fixture.inputs[testCase.input]!;
      const image = { width: input.width, height: input.height, data: Uint8Array.from(input.data) };
      const out = resizeBicubic(image, testCase.height, testCase.width);
      expect(out.width).toBe(testCase.width);
      expect(out.height).toBe(testCase.height);
      expect(Array.from(out.data)).toEqual(testCase.data);
    });
  }
});
