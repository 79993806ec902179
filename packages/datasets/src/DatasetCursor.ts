import { decodeSync } from "@apo-rl/core";
import { Schema } from "effect";
import { Uint32 } from "./SeededRandom.js";

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));

/**
 * Where a {@link DatasetSampler} stands: the next item to draw is position `index` of epoch `epoch`'s
 * order, which the `seed` determines. Plain JSON: save it with a checkpoint and pass it back to resume
 * with exactly the remaining sequence.
 *
 * @since 0.1.0
 * @category sampling
 */
export const DatasetCursor = Schema.Struct({
  epoch: NonNegativeInt,
  index: NonNegativeInt,
  seed: Uint32,
});

/**
 * @since 0.1.0
 * @category sampling
 */
export type DatasetCursor = typeof DatasetCursor.Type;

/**
 * Decode a saved cursor (e.g. parsed from a checkpoint's JSON); throws core's `InvalidInputError`
 * naming the bad field.
 *
 * @since 0.1.0
 * @category sampling
 */
export const decodeDatasetCursor: (input: unknown) => DatasetCursor = decodeSync(
  DatasetCursor,
  "dataset cursor",
);

/**
 * The cursor at the very start: epoch 0, index 0.
 *
 * @since 0.1.0
 * @category sampling
 */
export const startCursor = (seed: number): DatasetCursor => ({ epoch: 0, index: 0, seed });
