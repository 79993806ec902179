/**
 * A small seeded pseudo-random generator (SplitMix32-style mixing of a 32-bit counter): fast,
 * reproducible across platforms, and cheap to fork into independent streams, one per rollout.
 */
export interface Random {
  /** A float in `[0, 1)` with 32 random bits. */
  next(): number;
}

const mix32 = (value: number): number => {
  let z = value | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
};

/** Combine a seed and stream coordinates into one 32-bit state (order matters). */
export const streamSeed = (seed: number, ...coordinates: ReadonlyArray<number>): number => {
  let state = mix32(Math.floor(seed) ^ 0x9e3779b9) ^ mix32(Math.floor(seed / 0x1_0000_0000));
  for (const coordinate of coordinates) state = mix32(state + Math.imul(coordinate + 1, 0x9e3779b9));
  return state >>> 0;
};

/** A generator whose `k`-th output depends only on `seed` and `k`. */
export const makeRandom = (seed: number): Random => {
  let counter = seed >>> 0;
  return {
    next: () => {
      counter = (counter + 0x9e3779b9) >>> 0;
      return mix32(counter) / 0x1_0000_0000;
    },
  };
};
