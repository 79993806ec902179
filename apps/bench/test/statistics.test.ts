import { describe, expect, it } from "vitest";
import { defaultPassAtK } from "../src/eval/evaluatePolicy.js";
import { mean, median, passAtK, standardDeviation } from "../src/statistics.js";

/** pass@k by enumeration: the fraction of k-subsets of n samples (c correct) holding a correct one. */
const enumeratedPassAtK = (n: number, c: number, k: number): number => {
  let subsets = 0;
  let hits = 0;
  for (let mask = 0; mask < 1 << n; mask++) {
    let size = 0;
    let hit = false;
    for (let bit = 0; bit < n; bit++)
      if (mask & (1 << bit)) {
        size += 1;
        if (bit < c) hit = true;
      }
    if (size !== k) continue;
    subsets += 1;
    if (hit) hits += 1;
  }
  return hits / subsets;
};

describe("statistics", () => {
  it("pass@k equals the enumerated fraction of k-subsets with a correct sample", () => {
    for (let n = 1; n <= 8; n++)
      for (let c = 0; c <= n; c++)
        for (let k = 1; k <= n; k++) expect(passAtK(n, c, k)).toBeCloseTo(enumeratedPassAtK(n, c, k), 12);
  });

  it("pass@k: hand-worked values and bad arguments", () => {
    // n = 4, c = 1, k = 2: 1 − C(3,2)/C(4,2) = 1 − 3/6.
    expect(passAtK(4, 1, 2)).toBeCloseTo(0.5, 15);
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 15);
    expect(passAtK(5, 0, 5)).toBe(0);
    expect(() => passAtK(4, 1, 5)).toThrow(RangeError);
    expect(() => passAtK(4, 5, 1)).toThrow(RangeError);
  });

  it("mean, sample standard deviation and median", () => {
    expect(mean([])).toBeNull();
    expect(mean([1, 2, 6])).toBe(3);
    // Deviations −2, −1, 3 → squares 14 / (3 − 1) = 7.
    expect(standardDeviation([1, 2, 6])).toBeCloseTo(Math.sqrt(7), 15);
    expect(standardDeviation([5])).toBe(0);
    expect(standardDeviation([])).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });

  it("default k values: powers of two below the sample count, and the count", () => {
    expect(defaultPassAtK(1)).toEqual([1]);
    expect(defaultPassAtK(8)).toEqual([1, 2, 4, 8]);
    expect(defaultPassAtK(6)).toEqual([1, 2, 4, 6]);
  });
});
