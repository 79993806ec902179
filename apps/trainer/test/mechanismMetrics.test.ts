import { describe, expect, it } from "vitest";
import { mechanismMetricNames, mechanismMetrics } from "../src/mechanismMetrics.js";

describe("mechanismMetrics", () => {
  it("takes the min of the minima, the max of the maxima and the mean of the rest over micro-batches", () => {
    const combined = mechanismMetrics([
      {
        stcrPenalisedFraction: 0.5,
        stcrMeanScale: 1.2,
        dadsWeightMean: 0.8,
        dadsWeightMin: 0.6,
        dadsWeightMax: 0.9,
        difficultyMean: 0.25,
        klShareOfLoss: 0.1,
        loss: 3,
      },
      {
        stcrPenalisedFraction: 0,
        stcrMeanScale: 1,
        dadsWeightMean: 0.4,
        dadsWeightMin: 0.3,
        dadsWeightMax: 0.5,
        difficultyMean: 0.75,
        klShareOfLoss: 0.3,
      },
    ]);
    expect(combined.stcrPenalisedFraction).toBeCloseTo(0.25, 12);
    expect(combined.stcrMeanScale).toBeCloseTo(1.1, 12);
    expect(combined.dadsWeightMean).toBeCloseTo(0.6, 12);
    expect(combined.dadsWeightMin).toBe(0.3);
    expect(combined.dadsWeightMax).toBe(0.9);
    expect(combined.difficultyMean).toBeCloseTo(0.5, 12);
    expect(combined.klShareOfLoss).toBeCloseTo(0.2, 12);
    expect(Object.keys(combined)).toEqual([...mechanismMetricNames]);
  });

  it("is null where no micro-batch reported a value (a contributed objective, no positive sample)", () => {
    const combined = mechanismMetrics([
      { loss: 1, dadsWeightMin: Number.NaN },
      { stcrPenalisedFraction: 0.5 },
    ]);
    expect(combined.stcrPenalisedFraction).toBe(0.5);
    expect(combined.dadsWeightMin).toBeNull();
    expect(combined.klShareOfLoss).toBeNull();
  });
});
