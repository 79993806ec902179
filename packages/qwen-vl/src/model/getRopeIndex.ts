import type { Qwen25VLConfig } from "../config/Qwen25VLConfig.js";
import { ImageInputError } from "./errors.js";

/**
 * 3-D rotary positions of a batch: `positionIds[row][b][s]` with rows t, h, w, and one
 * `ropeDelta` per batch row (`max position + 1 − S`).
 *
 * @since 0.1.0
 * @category model
 */
export interface RopeIndex {
  readonly positionIds: ReadonlyArray<ReadonlyArray<ReadonlyArray<number>>>;
  readonly ropeDeltas: ReadonlyArray<number>;
}

type Grid = ReadonlyArray<number>;

const textOnly = (
  ids: ReadonlyArray<ReadonlyArray<number>>,
  mask: ReadonlyArray<ReadonlyArray<number>>,
): RopeIndex => {
  const rows = ids.map((row, b) => {
    let running = 0;
    return row.map((_, s) => {
      if (mask[b]![s] !== 1) return 1;
      return running++;
    });
  });
  const ropeDeltas = rows.map((row) => Math.max(...row) + 1 - row.length);
  return { positionIds: [rows, rows, rows], ropeDeltas };
};

/** Positions of one row's attended tokens; consumes images from `grids` starting at `next.index`. */
const rowPositions = (
  tokens: ReadonlyArray<number>,
  grids: ReadonlyArray<Grid>,
  next: { index: number },
  config: Qwen25VLConfig,
  row: number,
): [number[], number[], number[]] => {
  const { imageTokenId, visionStartTokenId, videoTokenId } = config.tokens;
  const merge = config.vision.spatialMergeSize;
  let images = 0;
  for (let s = 0; s + 1 < tokens.length; s++) {
    if (tokens[s] !== visionStartTokenId) continue;
    if (tokens[s + 1] === imageTokenId) images++;
    if (tokens[s + 1] === videoTokenId)
      throw new ImageInputError({ row, reason: "video input is not supported" });
  }
  const out: [number[], number[], number[]] = [[], [], []];
  let start = 0;
  let nextPosition = 0;
  const pushText = (length: number) => {
    for (let k = 0; k < length; k++) for (const axis of out) axis.push(nextPosition + k);
    nextPosition += length;
  };
  for (let image = 0; image < images; image++) {
    const end = tokens.indexOf(imageTokenId, start);
    const grid = grids[next.index];
    if (grid === undefined) {
      throw new ImageInputError({ row, reason: `image ${next.index} has no image_grid_thw row` });
    }
    next.index++;
    const [t, h, w] = [grid[0]!, grid[1]! / merge, grid[2]! / merge];
    pushText(end - start);
    const base = nextPosition;
    for (let frame = 0; frame < t; frame++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          out[0].push(base);
          out[1].push(base + y);
          out[2].push(base + x);
        }
      }
    }
    nextPosition = base + Math.max(t > 0 ? 0 : -1, h - 1, w - 1) + 1;
    start = end + t * h * w;
  }
  if (start < tokens.length) pushText(tokens.length - start);
  return out;
};

/**
 * `get_rope_index` of transformers for images: text tokens advance all three rows together; the
 * tokens of an image with merged grid `(t, h/m, w/m)` starting at `base` get `(base, base+row,
 * base+col)`, and the text after it continues from `max + 1`. Padded positions (mask 0) get 1.
 * `imageGridThw` lists the images of the whole batch in reading order. Without images every row is
 * `0…S−1` over the attended tokens.
 *
 * @since 0.1.0
 * @category model
 */
export const getRopeIndex = (
  inputIds: ReadonlyArray<ReadonlyArray<number>>,
  imageGridThw: ReadonlyArray<Grid> | undefined,
  config: Qwen25VLConfig,
  attentionMask?: ReadonlyArray<ReadonlyArray<number>>,
): RopeIndex => {
  const mask = attentionMask ?? inputIds.map((row) => row.map(() => 1));
  if (imageGridThw === undefined || imageGridThw.length === 0) return textOnly(inputIds, mask);
  const next = { index: 0 };
  const positionIds: [number[][], number[][], number[][]] = [[], [], []];
  const ropeDeltas: number[] = [];
  inputIds.forEach((ids, b) => {
    const attended = ids.filter((_, s) => mask[b]![s] === 1);
    const positions = rowPositions(attended, imageGridThw, next, config, b);
    let max = Number.NEGATIVE_INFINITY;
    for (let axis = 0; axis < 3; axis++) {
      let cursor = 0;
      positionIds[axis]!.push(
        ids.map((_, s) => {
          if (mask[b]![s] !== 1) return 1;
          const value = positions[axis]![cursor++]!;
          if (value > max) max = value;
          return value;
        }),
      );
    }
    ropeDeltas.push((attended.length === 0 ? 0 : max) + 1 - ids.length);
  });
  if (next.index !== imageGridThw.length) {
    throw new ImageInputError({
      row: -1,
      reason: `${imageGridThw.length} image_grid_thw rows but ${next.index} images in the input ids`,
    });
  }
  return { positionIds, ropeDeltas };
};
