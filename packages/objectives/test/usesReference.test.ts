import { describe, expect, it } from "vitest";
import { apo, dapo, grpo, grpoD, gspo } from "../src/index.js";

describe("usesReference tells the trainer when the reference pass can be skipped", () => {
  it("follows the KL coefficient of each objective", () => {
    const context = { step: 0, totalSteps: 10 };
    expect(grpo().usesReference?.(context)).toBe(true);
    expect(apo({ beta: 0 }).usesReference?.(context)).toBe(false);
    expect(dapo().usesReference?.(context)).toBe(false);
    expect(gspo().usesReference?.(context)).toBe(false);
    expect(gspo({ beta: 0.01 }).usesReference?.(context)).toBe(true);
  });

  it("follows a schedule that starts at zero (GRPO-D)", () => {
    const objective = grpoD({
      klSchedule: { kind: "linear", betaMin: 0, betaMax: 1e-3, warmupFraction: 0.5 },
    });
    expect(objective.usesReference?.({ step: 0, totalSteps: 10 })).toBe(false);
    expect(objective.usesReference?.({ step: 5, totalSteps: 10 })).toBe(true);
  });
});
