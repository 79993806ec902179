import { InvalidInputError } from "@apo-rl/core";
import { type DatasetCursor, decodeDatasetCursor, startCursor } from "./DatasetCursor.js";
import { SeededRandom } from "./SeededRandom.js";

/**
 * The order in which epoch `epoch` visits `size` items: a permutation of `0 … size-1` drawn with a
 * {@link SeededRandom} keyed by `(seed, epoch)` — the same arguments always give the same order, and
 * each epoch is shuffled independently. With `shuffle: false`, the identity order.
 *
 * @since 0.1.0
 * @category sampling
 */
export const epochOrder = (
  size: number,
  seed: number,
  epoch: number,
  options: { readonly shuffle?: boolean } = {},
): ReadonlyArray<number> => {
  const identity = Array.from({ length: size }, (_, index) => index);
  return options.shuffle === false ? identity : SeededRandom.fromSeed(seed, epoch).shuffled(identity);
};

/**
 * Options of a {@link DatasetSampler}: a `seed` (unsigned 32-bit, default 0) for a fresh start, or a
 * saved `cursor` to resume from (its seed wins); `shuffle: false` keeps the dataset order.
 *
 * @since 0.1.0
 * @category sampling
 */
export interface SamplerOptions {
  readonly seed?: number;
  readonly cursor?: DatasetCursor;
  readonly shuffle?: boolean;
}

const invalidCursor = (field: string, reason: string): InvalidInputError =>
  new InvalidInputError({ subject: "dataset cursor", field, reason, problems: [{ field, reason }] });

/**
 * Draws items epoch after epoch, endlessly, each epoch in a seeded shuffled order. `cursor` says where
 * it stands; a sampler built from a saved cursor continues with exactly the items the original would
 * have drawn next.
 *
 * @since 0.1.0
 * @category sampling
 */
export class DatasetSampler<A> {
  readonly #items: ReadonlyArray<A>;
  readonly #shuffle: boolean;
  #cursor: DatasetCursor;
  #order: ReadonlyArray<number>;

  constructor(items: ReadonlyArray<A>, options: SamplerOptions = {}) {
    if (items.length === 0)
      throw new InvalidInputError({
        subject: "dataset sampler",
        field: "items",
        reason: "cannot sample from an empty dataset",
        problems: [{ field: "items", reason: "cannot sample from an empty dataset" }],
      });
    const cursor = decodeDatasetCursor(options.cursor ?? startCursor(options.seed ?? 0));
    if (cursor.index > items.length)
      throw invalidCursor(
        "index",
        `index ${cursor.index} is past the end of a dataset of ${items.length} items`,
      );
    this.#items = items;
    this.#shuffle = options.shuffle !== false;
    this.#cursor = cursor;
    this.#order = this.#orderOf(cursor.epoch);
    this.#normalise();
  }

  /** The number of items in one epoch. */
  get size(): number {
    return this.#items.length;
  }

  /** Where the sampler stands: the position of the next item to draw. */
  get cursor(): DatasetCursor {
    return { ...this.#cursor };
  }

  /** Draw the next item. */
  next(): A {
    const item = this.#items[this.#order[this.#cursor.index]!]!;
    this.#cursor = { ...this.#cursor, index: this.#cursor.index + 1 };
    this.#normalise();
    return item;
  }

  /** Draw the next `count` items (crossing into the next epoch when needed). */
  take(count: number): ReadonlyArray<A> {
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`take expects a non-negative integer, got ${count}`);
    return Array.from({ length: count }, () => this.next());
  }

  /** Draw the rest of the current epoch. */
  restOfEpoch(): ReadonlyArray<A> {
    return this.take(this.#items.length - this.#cursor.index);
  }

  #orderOf(epoch: number): ReadonlyArray<number> {
    return epochOrder(this.#items.length, this.#cursor.seed, epoch, { shuffle: this.#shuffle });
  }

  /** A cursor at the end of an epoch points at the start of the next one. */
  #normalise(): void {
    if (this.#cursor.index < this.#items.length) return;
    this.#cursor = { ...this.#cursor, epoch: this.#cursor.epoch + 1, index: 0 };
    this.#order = this.#orderOf(this.#cursor.epoch);
  }
}
