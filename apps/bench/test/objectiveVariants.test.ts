import { describe, expect, it } from "vitest";
import { selectVariants, splitObjectiveList } from "../src/compare/objectiveVariants.js";
import { BenchUsageError } from "../src/errors.js";

describe("objective variants with options in the label", () => {
  it("splits the list at commas outside brackets", () => {
    expect(splitObjectiveList("grpo, apo[stcrBase=1.001,beta=0.04],apo-no-stcr")).toEqual([
      "grpo",
      "apo[stcrBase=1.001,beta=0.04]",
      "apo-no-stcr",
    ]);
    expect(() => splitObjectiveList("apo[beta=1")).toThrow(BenchUsageError);
    expect(() => splitObjectiveList("apo]")).toThrow(/unbalanced/);
  });

  it("merges bracketed options over the label's own, typed as numbers and booleans", () => {
    const [plain, strong, ablation, registry] = selectVariants([
      "apo",
      "apo[stcrBase=1.001,beta=0.04]",
      "apo-no-dads[stcrBase=1.01]",
      "dapo[dynamicSampling=false,name=x]",
    ]);
    expect(plain).toMatchObject({ label: "apo", objective: "apo", options: {} });
    expect(strong).toMatchObject({
      label: "apo[stcrBase=1.001,beta=0.04]",
      objective: "apo",
      options: { stcrBase: 1.001, beta: 0.04 },
    });
    expect(ablation).toMatchObject({ objective: "apo", options: { dads: false, stcrBase: 1.01 } });
    expect(registry).toMatchObject({ objective: "dapo", options: { dynamicSampling: false, name: "x" } });
  });

  it("rejects malformed options and duplicate labels", () => {
    expect(() => selectVariants(["apo[beta]"])).toThrow(/key=value/);
    expect(() => selectVariants(["apo[=1]"])).toThrow(BenchUsageError);
    expect(() => selectVariants(["grpo", "grpo"])).toThrow(/twice/);
  });
});
