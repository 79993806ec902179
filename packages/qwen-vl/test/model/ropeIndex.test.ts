import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeQwen25VLConfig, getRopeIndex } from "../../src/index.js";
import { mropeTables } from "../../src/internal/model/textDecoder.js";
import { visionRotaryAngles } from "../../src/internal/model/visionTower.js";
import { visionSegments } from "../../src/internal/model/windowIndex.js";
import { fixtureDirectory, loadFixture, maxAbsDiff } from "./support/fixtures.js";

const image = loadFixture("image");
const textOnly = loadFixture("text_only");
const tinyConfig = decodeQwen25VLConfig(
  JSON.parse(readFileSync(`${fixtureDirectory("image")}/config.json`, "utf8")),
);

/** The published 3B config's relevant fields (ids 151652/151655, window 112). */
const config3B = decodeQwen25VLConfig({
  hidden_size: 2048,
  num_attention_heads: 16,
  num_key_value_heads: 2,
  rope_scaling: { type: "mrope", mrope_section: [16, 24, 24] },
  vision_config: { hidden_size: 1280, out_hidden_size: 2048 },
});

describe("getRopeIndex", () => {
  it("reproduces the fixtures' position ids and rope deltas exactly", () => {
    const fromImage = getRopeIndex([image.inputs.input_ids], image.inputs.image_grid_thw, tinyConfig);
    expect(fromImage.positionIds.map((row) => row[0])).toEqual(image.position_ids);
    expect(fromImage.ropeDeltas).toEqual([image.rope_deltas]);
    const fromText = getRopeIndex([textOnly.inputs.input_ids], undefined, tinyConfig);
    expect(fromText.positionIds.map((row) => row[0])).toEqual(textOnly.position_ids);
    expect(fromText.ropeDeltas).toEqual([0]);
  });

  it("gives decoding positions index + delta, matching the fixture's full sequence", () => {
    const length = image.inputs.input_ids.length;
    const decode = image.decode_input_position_ids;
    expect(decode).toEqual(decode.map((_, step) => length + step + image.rope_deltas));
    const full = image.full_sequence_position_ids;
    expect(full.map((row) => row.slice(0, length))).toEqual(image.position_ids);
    for (const row of full)
      expect(row.slice(length)).toEqual(
        image.greedy_new_ids.map((_, step) => length + step + image.rope_deltas),
      );
  });

  it("works the spec's 224×224 example: 89 tokens, delta −56", () => {
    const ids = [
      ...Array.from({ length: 14 }, () => 9),
      151652,
      ...Array.from({ length: 64 }, () => 151655),
      151653,
      ...Array.from({ length: 9 }, () => 9),
    ];
    const { positionIds, ropeDeltas } = getRopeIndex([ids], [[1, 16, 16]], config3B);
    expect(ropeDeltas).toEqual([-56]);
    const [t, h, w] = positionIds.map((row) => row[0]!);
    expect(t!.slice(0, 15)).toEqual([...Array(15).keys()]);
    expect(t![15]).toBe(15);
    expect(t![78]).toBe(15);
    expect(h![15 + 8 * 3 + 5]).toBe(15 + 3);
    expect(w![15 + 8 * 3 + 5]).toBe(15 + 5);
    expect(Math.max(...h!.slice(15, 79), ...w!.slice(15, 79))).toBe(22);
    expect(t![79]).toBe(23);
    expect(t![88]).toBe(32);
  });

  it("handles two images, text after each, across batch rows with left padding", () => {
    const s = 151652;
    const p = 151655;
    const e = 151653;
    // Row 0: text, image A (2×3 merged), text, image B (1×2 merged), text. Row 1: padding, image C (1×1), text.
    const row0 = [7, s, ...Array(6).fill(p), e, 8, s, ...Array(2).fill(p), e, 9];
    const row1 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, s, p, e, 5, 6];
    const grids = [
      [1, 4, 6],
      [1, 2, 4],
      [1, 2, 2],
    ];
    const mask = [row0.map(() => 1), row1.map((_, i) => (i < 10 ? 0 : 1))];
    const { positionIds, ropeDeltas } = getRopeIndex([row0, row1], grids, config3B, mask);
    // Hand-worked: row 0 text 0,1; image A at base 2: t=2, h=2+r (r<2), w=2+c (c<3); next text from 2+3=5.
    expect(positionIds[0]![0]).toEqual([0, 1, 2, 2, 2, 2, 2, 2, 5, 6, 7, 8, 8, 10, 11]);
    expect(positionIds[1]![0]).toEqual([0, 1, 2, 2, 2, 3, 3, 3, 5, 6, 7, 8, 8, 10, 11]);
    expect(positionIds[2]![0]).toEqual([0, 1, 2, 3, 4, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // Row 1: pads get 1; vision_start 0, image at base 1, then text 2, 3, 4.
    expect(positionIds[0]![1]).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 2, 3, 4]);
    expect(ropeDeltas).toEqual([11 + 1 - 15, 4 + 1 - 15]);
  });

  it("rejects more images than grid rows", () => {
    expect(() =>
      getRopeIndex(
        [[151652, 151655, 151653]],
        [
          [1, 2, 2],
          [1, 2, 2],
        ],
        config3B,
      ),
    ).toThrow(/2 image_grid_thw rows but 1/);
  });
});

describe("rotary tables", () => {
  it("M-RoPE cos/sin equal the reference's per row section", () => {
    const { cos, sin } = mropeTables(
      getRopeIndex([image.inputs.input_ids], image.inputs.image_grid_thw, tinyConfig).positionIds,
      tinyConfig,
    );
    const dim = tinyConfig.text.headDim;
    const [s0, s1] = tinyConfig.text.mropeSection;
    const expectedCos: number[] = [];
    const expectedSin: number[] = [];
    image.inputs.input_ids.forEach((_, s) => {
      for (let j = 0; j < dim; j++) {
        const k = j % (dim / 2);
        const axis = k < s0 ? 0 : k < s0 + s1 ? 1 : 2;
        expectedCos.push(image.text_rope_debug.cos[axis]![s]![j]!);
        expectedSin.push(image.text_rope_debug.sin[axis]![s]![j]!);
      }
    });
    expect(maxAbsDiff(cos, expectedCos)).toBeLessThan(1e-6);
    expect(maxAbsDiff(sin, expectedSin)).toBeLessThan(1e-6);
  });

  it("vision angles equal the reference's rot_pos_emb", () => {
    const angles = visionRotaryAngles(image.inputs.image_grid_thw!, tinyConfig);
    expect(maxAbsDiff(angles, image.vision_debug!.rot_pos_emb_theta)).toBe(0);
  });
});

describe("vision window partition", () => {
  it("reproduces the fixture's window index and cu_seqlens exactly", () => {
    const segments = visionSegments(image.inputs.image_grid_thw!, tinyConfig);
    expect(segments.windowIndex).toEqual(image.vision_debug!.window_index);
    expect(segments.cuWindowSeqlens).toEqual(image.vision_debug!.cu_window_seqlens);
    expect(segments.cuSeqlens).toEqual(image.vision_debug!.cu_seqlens);
  });

  it("works the spec's examples with 112-pixel windows", () => {
    const small = visionSegments([[1, 10, 12]], config3B);
    expect(small.windowIndex).toEqual([
      0, 1, 2, 3, 6, 7, 8, 9, 12, 13, 14, 15, 18, 19, 20, 21, 4, 5, 10, 11, 16, 17, 22, 23, 24, 25, 26, 27,
      28, 29,
    ]);
    expect(small.cuWindowSeqlens).toEqual([0, 64, 96, 112, 120]);
    expect(visionSegments([[1, 16, 16]], config3B).cuWindowSeqlens).toEqual([0, 64, 128, 192, 256]);
    const large = visionSegments([[1, 54, 74]], config3B);
    expect(large.cuWindowSeqlens.length - 1).toBe(70);
    expect(large.cuWindowSeqlens.at(-1)).toBe(3996);
    expect([...large.windowIndex].sort((a, b) => a - b)).toEqual([...Array(999).keys()]);
  });

  it("offsets the second image and keeps full-attention segments per image", () => {
    const both = visionSegments(
      [
        [1, 10, 12],
        [1, 4, 4],
      ],
      config3B,
    );
    expect(both.cuSeqlens).toEqual([0, 120, 136]);
    expect(both.windowIndex.slice(30)).toEqual([30, 31, 32, 33]);
    expect(both.cuWindowSeqlens).toEqual([0, 64, 96, 112, 120, 136]);
  });
});
