import type { ImageInput } from "@apo-rl/core";
import { Schema } from "effect";
import type { DatasetItem } from "../DatasetItem.js";
import { SeededRandom, Uint32 } from "../SeededRandom.js";
import { fingerprint } from "./hash.js";

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));

/** The option fields every synthetic task has: the seeds and sizes of its two splits. */
export const syntheticSplitFields = {
  seed: Schema.optional(Uint32),
  heldOutSeed: Schema.optional(Uint32),
  trainSize: Schema.optional(NonNegativeInt),
  heldOutSize: Schema.optional(NonNegativeInt),
};

/** One scene in this many lands in the held-out bucket. */
const HELD_OUT_BUCKETS = 8;

/** A drawn candidate: the exact content it is fingerprinted by, and how to make it the split's item. */
export interface SyntheticCandidate {
  readonly key: string;
  readonly toItem: (index: number) => DatasetItem;
}

/**
 * Draw the items of one split of a synthetic task. Candidate `k` of a split is drawn from its own
 * generator keyed by the split's `(seed, stream, k)`; a candidate belongs to the held-out split exactly when the
 * fingerprint of its content falls into the held-out bucket, so the two splits cannot share an item.
 */
export const drawSyntheticSplit = (
  split: "train" | "held-out",
  count: number,
  options: { readonly seed: number; readonly heldOutSeed: number },
  streams: { readonly train: number; readonly heldOut: number },
  draw: (random: SeededRandom) => SyntheticCandidate,
): ReadonlyArray<DatasetItem> => {
  const seed = split === "train" ? options.seed : options.heldOutSeed;
  const stream = split === "train" ? streams.train : streams.heldOut;
  const items: Array<DatasetItem> = [];
  for (let candidate = 0; items.length < count; candidate++) {
    const drawn = draw(SeededRandom.fromSeed(seed, stream, candidate));
    if ((fingerprint(drawn.key) % HELD_OUT_BUCKETS === 0) === (split === "held-out"))
      items.push(drawn.toItem(items.length));
  }
  return items;
};

/** A synthetic item: one user turn with the image and the question, numbered `index + 1`. */
export const syntheticItem = (item: {
  readonly prefix: string;
  readonly split: "train" | "held-out";
  readonly index: number;
  readonly question: string;
  readonly image: ImageInput;
  readonly answer: number;
  readonly category: string;
}): DatasetItem => {
  const id = `${item.prefix}-${item.split}-${String(item.index + 1).padStart(5, "0")}`;
  return {
    id,
    messages: [
      {
        role: "user",
        content: [
          { type: "image", image: `images/${id}.png` },
          { type: "text", text: item.question },
        ],
      },
    ],
    images: [item.image],
    answer: String(item.answer),
    category: item.category,
    row: item.index + 1,
  };
};
