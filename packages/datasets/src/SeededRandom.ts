import { Schema } from "effect";
import { mixSeed } from "./internal/hash.js";

const UINT32 = 0x1_0000_0000;

/**
 * A 32-bit unsigned integer (`0 ≤ n < 2³²`), e.g. a seed.
 *
 * @since 0.1.0
 * @category random
 */
export const Uint32 = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: UINT32 - 1 }));

/**
 * The full state of a {@link SeededRandom}: four 32-bit words, not all zero. Plain JSON, so it can be
 * saved in a checkpoint and restored with {@link SeededRandom.fromState}.
 *
 * @since 0.1.0
 * @category random
 */
export const RandomState = Schema.Tuple([Uint32, Uint32, Uint32, Uint32]).check(
  Schema.makeFilter((words) => words.some((word) => word !== 0) || "the state must not be all zeros"),
);

/**
 * @since 0.1.0
 * @category random
 */
export type RandomState = typeof RandomState.Type;

const rotateLeft = (value: number, shift: number): number =>
  ((value << shift) | (value >>> (32 - shift))) >>> 0;

/**
 * A small, fast, seeded pseudo-random generator: xoshiro128** (Blackman & Vigna) with a 128-bit
 * state, seeded through a SplitMix-style mixer. The same seed always gives the same sequence on every
 * platform, and the state can be saved and restored exactly. Not for cryptography.
 *
 * @since 0.1.0
 * @category random
 */
export class SeededRandom {
  readonly #words: Uint32Array;

  private constructor(words: ArrayLike<number>) {
    this.#words = Uint32Array.from(words);
  }

  /**
   * A generator for `seed` (an unsigned 32-bit integer); extra `streams` numbers select independent
   * sequences from the same seed (e.g. one per epoch).
   */
  static fromSeed(seed: number, ...streams: ReadonlyArray<number>): SeededRandom {
    let key = mixSeed(seed >>> 0);
    for (const stream of streams) key = mixSeed((key ^ mixSeed(stream >>> 0)) >>> 0);
    const words: Array<number> = [];
    let counter = key;
    for (let index = 0; index < 4; index++) {
      counter = (counter + 0x9e3779b9) >>> 0;
      words.push(mixSeed(counter));
    }
    if (!words.some((word) => word !== 0)) words[0] = 1;
    return new SeededRandom(words);
  }

  /** A generator that continues exactly from a saved {@link RandomState}. */
  static fromState(state: RandomState): SeededRandom {
    if (state.length !== 4 || state.every((word) => word === 0))
      throw new RangeError("RandomState must be four 32-bit words, not all zero");
    return new SeededRandom(state);
  }

  /** The current state, to save and later pass to {@link SeededRandom.fromState}. */
  state(): RandomState {
    const [a, b, c, d] = this.#words;
    return [a!, b!, c!, d!];
  }

  /** The next unsigned 32-bit integer. */
  nextUint32(): number {
    const words = this.#words;
    const result = Math.imul(rotateLeft(Math.imul(words[1]!, 5) >>> 0, 7), 9) >>> 0;
    const shifted = (words[1]! << 9) >>> 0;
    words[2]! ^= words[0]!;
    words[3]! ^= words[1]!;
    words[1]! ^= words[2]!;
    words[0]! ^= words[3]!;
    words[2]! ^= shifted;
    words[3] = rotateLeft(words[3]!, 11);
    return result;
  }

  /** A float uniform in `[0, 1)` with 32 bits of randomness. */
  nextFloat(): number {
    return this.nextUint32() / UINT32;
  }

  /** An integer uniform in `[0, bound)`, without modulo bias (`1 ≤ bound ≤ 2³²`). */
  nextInt(bound: number): number {
    if (!Number.isInteger(bound) || bound < 1 || bound > UINT32)
      throw new RangeError(`nextInt bound must be an integer in [1, 2^32], got ${bound}`);
    const limit = UINT32 - (UINT32 % bound);
    for (;;) {
      const value = this.nextUint32();
      if (value < limit) return value % bound;
    }
  }

  /** An integer uniform in `[minimum, maximum]` (both inclusive). */
  nextIntBetween(minimum: number, maximum: number): number {
    return minimum + this.nextInt(maximum - minimum + 1);
  }

  /** One element chosen uniformly. */
  pick<A>(elements: ReadonlyArray<A>): A {
    if (elements.length === 0) throw new RangeError("cannot pick from an empty array");
    return elements[this.nextInt(elements.length)]!;
  }

  /** A shuffled copy (Fisher–Yates), leaving `elements` untouched. */
  shuffled<A>(elements: ReadonlyArray<A>): Array<A> {
    const copy = [...elements];
    for (let index = copy.length - 1; index > 0; index--) {
      const other = this.nextInt(index + 1);
      [copy[index], copy[other]] = [copy[other]!, copy[index]!];
    }
    return copy;
  }
}
