import { describe, expect, it } from "vitest";
import { type CompareSummary, versusGrpoTable } from "../src/compare/runCompare.js";
import {
  pairedDifference,
  regularizedIncompleteBeta,
  studentTCdf,
  studentTQuantile,
} from "../src/statistics.js";

describe("Student's t", () => {
  it("matches the closed forms for 1 (Cauchy) and 2 degrees of freedom", () => {
    for (const t of [-7, -1.5, -0.2, 0, 0.3, 1, 2.5, 12.7]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 12);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 12);
    }
  });

  it("gives the published two-sided 95 % critical values", () => {
    const table: ReadonlyArray<readonly [number, number]> = [
      [1, 12.7062],
      [2, 4.3027],
      [3, 3.1824],
      [4, 2.7764],
      [9, 2.2622],
      [29, 2.0452],
      [120, 1.9799],
    ];
    for (const [df, critical] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(critical, 4);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.7764, 4);
    expect(studentTQuantile(0.5, 7)).toBeCloseTo(0, 9);
  });

  it("the incomplete beta has I_x(1, 1) = x and I_x(a, 1) = x^a", () => {
    for (const x of [0, 0.1, 0.5, 0.93, 1]) {
      expect(regularizedIncompleteBeta(x, 1, 1)).toBeCloseTo(x, 12);
      expect(regularizedIncompleteBeta(x, 3, 1)).toBeCloseTo(x ** 3, 12);
    }
  });
});

describe("pairedDifference", () => {
  it("reproduces a hand-worked seed-paired 95 % interval", () => {
    // Differences per seed: 0.02, 0.02, −0.01, 0.04, 0.02 → mean 0.018; squared deviations
    // 4e-6, 4e-6, 7.84e-4, 4.84e-4, 4e-6 sum to 1.28e-3, / 4 = 3.2e-4 → std 0.0178885;
    // standard error 0.0178885 / √5 = 0.008; t(0.975, 4) = 2.776445 → half-width 0.0222116.
    const apo = [0.7, 0.72, 0.69, 0.75, 0.71];
    const grpo = [0.68, 0.7, 0.7, 0.71, 0.69];
    const difference = pairedDifference(apo, grpo);
    expect(difference.n).toBe(5);
    expect(difference.mean).toBeCloseTo(0.018, 12);
    expect(difference.std).toBeCloseTo(Math.sqrt(3.2e-4), 12);
    expect(difference.low).toBeCloseTo(0.018 - 2.776445 * 0.008, 6);
    expect(difference.high).toBeCloseTo(0.018 + 2.776445 * 0.008, 6);
    expect(difference.level).toBe(0.95);
  });

  it("drops pairs with a missing value and gives no interval below two pairs", () => {
    const single = pairedDifference([0.5, null, 0.7], [0.4, 0.1, null]);
    expect(single).toMatchObject({ std: 0, n: 1, level: 0.95, low: null, high: null });
    expect(single.mean).toBeCloseTo(0.1, 12);
    expect(() => pairedDifference([1], [1, 2])).toThrow(RangeError);
  });
});

describe("versusGrpoTable", () => {
  it("prints mean [low, high] per variant, without a sign on values that round to zero", () => {
    const interval = (mean: number, low: number | null, high: number | null) => ({
      mean,
      std: 0,
      n: low === null ? 1 : 3,
      level: 0.95,
      low,
      high,
    });
    const versus = {
      heldOutAccuracyAfter: interval(0.0104, -0.0196, 0.0401),
      improvement: interval(0, 0, 0),
      finalEntropy: interval(-0.00001, -0.0002, 0.0001),
      lengthIncorrect: interval(0.13, null, null),
      lengthCorrect: interval(-0.01, -0.15, 0.13),
      kl: interval(-0.003, -0.0099, 0.0039),
    };
    const table = versusGrpoTable([
      { label: "grpo" } as CompareSummary,
      { label: "apo[beta=0.04]", versusGrpo: versus } as unknown as CompareSummary,
    ]);
    const rows = table.split("\n");
    expect(rows).toHaveLength(3);
    expect(rows[2]).toBe(
      "| apo[beta=0.04] | 0.010 [-0.020, 0.040] | 0.000 [0.000, 0.000] | 0.13 (n = 1) | -0.01 [-0.15, 0.13] | -0.00300 [-0.00990, 0.00390] |",
    );
    expect(versusGrpoTable([{ label: "apo" } as CompareSummary])).toBe("");
  });
});
