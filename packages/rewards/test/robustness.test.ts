import { describe, expect, it } from "vitest";
import { explainEquivalence, isEquivalent, mathAnswer, parseReference, viewR1Reward } from "../src/index.js";

/**
 * Regression tests for issue #16: hostile inputs must get a verdict (never an exception), and values
 * too large or too small for a double must never be judged equal because both overflowed.
 */
describe("wrong answers that overflow, underflow or drop a prime are not equivalent", () => {
  const falsePositives: ReadonlyArray<readonly [string, string]> = [
    ["2^{5000}", "3^{5000}"],
    ["1000!", "1001!"],
    ["e^{1000}", "\\pi^{1000}"],
    ["10^{10^{10}}", "9^{9^9}"],
    ["2^{-5000}", "0"],
    ["y'", "y''"],
    // Same shapes, beyond what is computed exactly or as a double.
    ["e^{-1000}", "0"],
    ["10^{-400}", "0"],
    ["100000!", "100001!"],
    ["2^{10^{6}}", "2^{10^{6}} \\cdot 2"],
    ["-e^{1000}", "e^{1000}"],
    ["\\infty", "2^{5000}"],
    ["f'(x)", "f(x)"],
    ["(x^2)'", "x^2"],
  ];

  it.each(falsePositives)("%s is not %s (either way round)", (left, right) => {
    expect(isEquivalent(`$${left}$`, `$${right}$`)).toBe(false);
    expect(isEquivalent(`$${right}$`, `$${left}$`)).toBe(false);
    expect(mathAnswer().verify(`The answer is $\\boxed{${right}}$`, left).reward).toBe(0);
  });

  const truePositives: ReadonlyArray<readonly [string, string]> = [
    ["2^{5000}", "4^{2500}"],
    ["1000!", "1000 \\cdot 999!"],
    ["e^{1000}", "\\exp(1000)"],
    ["2^{-5000}", "\\frac{1}{2^{5000}}"],
    ["10^{10^{10}}", "100^{5 \\cdot 10^{9}}"],
    ["y'", "y'"],
    ["\\infty", "\\infty"],
  ];

  it.each(truePositives)("%s is still %s", (left, right) => {
    expect(isEquivalent(`$${left}$`, `$${right}$`)).toBe(true);
  });
});

describe("any input up to the cap gets a verdict, never an exception", () => {
  const factorials = `3${"!".repeat(2_000)}`;
  const longSum = Array.from({ length: 7_000 }, () => "1").join("+");
  const nestedBraces = (depth: number): string => `${"{".repeat(depth)}1${"}".repeat(depth)}`;
  const hostile: ReadonlyArray<readonly [string, string, string]> = [
    ["3 followed by 2 000 !", factorials, "too-deep"],
    ["3 followed by 2 000 ! in math", `$${factorials}$`, "too-deep"],
    ["1+1+…+1 with 7 000 terms", longSum, "too-deep"],
    ["a boxed sum of 7 000 terms", `\\boxed{${longSum}}`, "too-deep"],
    ["9 990 nested braces", nestedBraces(9_990), "too-deep"],
  ];

  it.each(hostile)("%s", (_, text, reason) => {
    for (const verifier of [mathAnswer(), viewR1Reward()]) {
      const asResponse = verifier.verify(text, "3");
      expect(asResponse.reward).toBeLessThan(1);
      expect(asResponse.correct).toBe(false);
      const asReference = verifier.verify("3", text);
      expect(asReference.correct).toBe(false);
    }
    expect(explainEquivalence("3", text).reason).toBe(reason);
    expect(explainEquivalence(text, "3").reason).toBe("invalid-reference");
    expect(() => parseReference(text)).toThrow(/too-deep/);
  });

  it("10 000 nested braces (with the length cap raised to admit them)", () => {
    const text = nestedBraces(10_000);
    const verifier = mathAnswer({ maxInputLength: 50_000 });
    const result = verifier.verify(text, "1");
    expect(result).toMatchObject({ reward: 0, correct: false, details: { reason: "too-deep" } });
    expect(verifier.verify(`\\boxed{${text}}`, "1").details.reason).toBe("too-deep");
  });

  it("square roots of huge exact values return at once (found by the fuzz suite: √(169!) hung)", () => {
    for (const [root, value, expected] of [
      ["\\sqrt{169!}", "3", false],
      ["\\sqrt{10^{600}}", "10^{300}", true],
      ["\\sqrt{(3^{600})^2}", "3^{600}", true],
      ["\\sqrt{2^{1999}}", "2^{999} \\sqrt{2}", true],
    ] as const) {
      const start = performance.now();
      expect(isEquivalent(`$${value}$`, `$${root}$`)).toBe(expected);
      expect(performance.now() - start).toBeLessThan(1000);
    }
  });

  it("stays answerable below the depth bound: a sum of 150 ones is 150", () => {
    const sum = Array.from({ length: 150 }, () => "1").join("+");
    expect(isEquivalent("150", `$${sum}$`)).toBe(true);
    expect(isEquivalent("151", `$${sum}$`)).toBe(false);
    expect(isEquivalent("6", "$3!$")).toBe(true);
  });
});
