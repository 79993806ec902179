import { describe, expect, it } from "vitest";
import { explainEquivalence, isEquivalent } from "../src/index.js";

describe("isEquivalent: extraction", () => {
  it("prefers <answer> content, then the last \\boxed{} (nested braces), then the stated answer", () => {
    expect(isEquivalent("5", "<think>maybe 4</think><answer>5</answer>")).toBe(true);
    expect(isEquivalent("4", "<think>maybe 4</think><answer>5</answer>")).toBe(false);
    expect(
      isEquivalent(
        "\\frac{1}{2}",
        "first \\boxed{3}. Checking it all again we get \\boxed{\\frac{1}{\\sqrt{4}}}",
      ),
    ).toBe(true);
    // Boxes a short, separated stretch apart are one answer (Math-Verify): {3, 1/2} is not 1/2.
    expect(isEquivalent("\\frac{1}{2}", "first \\boxed{3}, finally \\boxed{\\frac{1}{\\sqrt{4}}}")).toBe(
      false,
    );
    expect(isEquivalent("\\{1, 2\\}", "\\boxed{1} papers and \\boxed{2} bins")).toBe(true);
    expect(isEquivalent("7", "We get 3 then 5. The final answer is 7. I hope it is correct.")).toBe(true);
    expect(isEquivalent("7", "so x = 3 and the last number is 7")).toBe(true);
    expect(isEquivalent("5", "<think>…</think><answer>The answer is 5.</answer>")).toBe(true);
    expect(isEquivalent("5", "<answer>x = 5</answer>")).toBe(true);
  });

  it("treats a lone $ before a sentence as currency", () => {
    expect(isEquivalent("7", "It costs $5 and the answer is $7$.")).toBe(true);
    expect(isEquivalent("5", "It costs $5 and the answer is $7$.")).toBe(false);
  });

  it("reads $…$, $$…$$, \\(…\\) and \\[…\\]", () => {
    for (const response of ["so $12$", "so $$12$$", "so \\(12\\)", "so \\[12\\]"]) {
      expect(isEquivalent("12", response)).toBe(true);
    }
  });

  it("reports why it did not match", () => {
    expect(explainEquivalence("3", "no numbers here at all").reason).toBe("no-answer");
    expect(explainEquivalence("3", "$4$")).toMatchObject({ reason: "mismatch", predictedAnswer: "4" });
    expect(explainEquivalence("3", "x".repeat(30_000)).reason).toBe("too-long");
  });
});

describe("isEquivalent: normalisation", () => {
  const pairs: ReadonlyArray<readonly [string, string]> = [
    ["$\\frac{3}{4}$", "$\\dfrac34$"],
    ["$\\frac{3}{4}$", "$\\tfrac{3}{4}$"],
    ["$2\\sqrt{2}$", "$\\sqrt{8}$"],
    ["$\\pi/2$", "$\\frac{\\pi}{2}$"],
    ["$\\left(1, 2\\right)$", "$(1,2)$"],
    ["$\\text{yes}$", "$\\mathrm{yes}$"],
    ["$6$", "$2 \\cdot 3$"],
    ["$6$", "$2 \\times 3$"],
    ["$30$", "$30^\\circ$"],
    ["$30$", "$30^{\\circ}$"],
    ["$45$", "$45\\%$"],
    ["$12$", "$12 \\text{ cm}^2$"],
    ["$5$", "$5 \\text{ apples}$"],
    ["$2^{10}$", "$1024$"],
    ["$\\frac{\\sqrt{2}}{2}$", "$\\frac{1}{\\sqrt{2}}$"],
    ["$y = 2x + 3$", "$2x+3$"],
    ["$(-\\infty, 3)$", "$x < 3$"],
    ["$12$", "$12.0$"],
    ["$5$", "$\\$5.00$"],
    ["$1234567$", "$1,234,567$"],
    ["$5$", "$5.$"],
    ["$3$", "$x = 3$"],
    ["$\\frac{5}{2}$", "$2\\frac{1}{2}$"],
    ["$0.0015$", "1.5e-3"],
    ["$1500$", "$1.5 \\times 10^{3}$"],
    ["$\\infty$", "$\\infty$"],
  ];
  it.each(pairs)("%s ≡ %s", (gold, predicted) => {
    expect(isEquivalent(gold, predicted)).toBe(true);
  });

  it("does not over-normalise", () => {
    expect(isEquivalent("$2\\frac{1}{2}$", "$1$")).toBe(false);
    expect(isEquivalent("$\\frac{1}{3}$", "$0.33$")).toBe(false);
    expect(isEquivalent("$2x$", "$2$")).toBe(false);
  });
});

describe("isEquivalent: comparison", () => {
  it("compares rationals exactly and irrationals with a relative tolerance", () => {
    expect(isEquivalent("$\\frac{1}{3}$", "$\\frac{2}{6}$")).toBe(true);
    expect(isEquivalent("$\\frac{1}{3}$", "$0.3333333333$")).toBe(true);
    expect(isEquivalent("$1000001$", "$1000000$")).toBe(false);
    expect(isEquivalent("$\\sqrt{2}$", "1.41421356")).toBe(true);
    expect(isEquivalent("$\\sqrt{2}$", "1.41", { relativeTolerance: 1e-2 })).toBe(true);
    expect(isEquivalent("$\\sqrt{2}$", "1.41")).toBe(false);
  });

  it("decides symbolic identities", () => {
    expect(isEquivalent("$(x+1)^2$", "$x^2 + 2x + 1$")).toBe(true);
    expect(isEquivalent("$(x+1)^2$", "$x^2 + 1$")).toBe(false);
    expect(isEquivalent("$\\sin^2 x + \\cos^2 x$", "$1$")).toBe(true);
    expect(isEquivalent("$\\frac{x^2-1}{x-1}$", "$x+1$")).toBe(true);
    expect(isEquivalent("$\\ln(e^2)$", "$2$")).toBe(true);
  });

  it("falls back to mathjs when no sample point is defined", () => {
    // √(−x−1) is undefined for every positive sample, so identity testing cannot decide.
    expect(isEquivalent("$2\\sqrt{-x-1}$", "$\\sqrt{-x-1} \\cdot 2$")).toBe(true);
    expect(isEquivalent("$2\\sqrt{-x-1}$", "$3\\sqrt{-x-1}$")).toBe(false);
  });

  it("compares sets order-insensitively and tuples in order", () => {
    expect(isEquivalent("$\\{1, 2, 3\\}$", "$\\{3, 1, 2\\}$")).toBe(true);
    expect(isEquivalent("$1, 2, 3$", "$3, 2, 1$")).toBe(true);
    expect(isEquivalent("$(1, 2)$", "$(2, 1)$")).toBe(false);
    expect(isEquivalent("$\\{1, 2\\}$", "$\\{1, 2, 3\\}$")).toBe(false);
    expect(isEquivalent("$x = \\pm 2$", "$2, -2$")).toBe(true);
  });

  it("respects open and closed interval ends", () => {
    expect(isEquivalent("$[0, 1)$", "$[0, 1)$")).toBe(true);
    expect(isEquivalent("$[0, 1)$", "$[0, 1]$")).toBe(false);
    expect(isEquivalent("$(-\\infty, 2] \\cup (3, \\infty)$", "$(3, \\infty) \\cup (-\\infty, 2]$")).toBe(
      true,
    );
    expect(isEquivalent("$x \\geq 2$", "$[2, \\infty)$")).toBe(true);
    expect(isEquivalent("$x > 2$", "$[2, \\infty)$")).toBe(false);
  });

  it("compares equations up to a non-zero factor and inequalities up to a positive one", () => {
    expect(isEquivalent("$2x + 4y = 6$", "$x + 2y - 3 = 0$")).toBe(true);
    expect(isEquivalent("$y = 2x + 1$", "$2x - y + 1 = 0$")).toBe(true);
    expect(isEquivalent("$y = 2x + 1$", "$y = 2x - 1$")).toBe(false);
    expect(isEquivalent("$x < 3$", "$-x > -3$")).toBe(true);
    expect(isEquivalent("$x < 3$", "$x > 3$")).toBe(false);
  });

  it("evaluates matrices and matrix expressions", () => {
    const gold = "$\\begin{pmatrix} 2 & 0 \\\\ 0 & 2 \\end{pmatrix}$";
    expect(isEquivalent(gold, "$\\begin{bmatrix} 2 & 0 \\\\ 0 & 2 \\end{bmatrix}$")).toBe(true);
    expect(isEquivalent(gold, "$2\\begin{pmatrix} 1 & 0 \\\\ 0 & 1 \\end{pmatrix}$")).toBe(true);
    expect(isEquivalent(gold, "$\\begin{pmatrix} 2 & 0 \\\\ 0 & 3 \\end{pmatrix}$")).toBe(false);
  });

  it("does not reward hedged answers", () => {
    expect(isEquivalent("5", "$\\boxed{1, 2, 3, 4, 5}$")).toBe(false);
    expect(isEquivalent("5", "\\boxed{4} \\boxed{5}")).toBe(false);
    expect(isEquivalent("5", "$\\pm 5$")).toBe(false);
    expect(isEquivalent("5", "$5 \\text{ or } 6$")).toBe(false);
    expect(isEquivalent("5", "\\boxed{5} \\boxed{4}")).toBe(false);
  });

  it("reads multiple-choice letters in their usual spellings", () => {
    for (const response of ["B", "(B)", "B.", "The answer is B", "answer: (B)", "\\boxed{B}"]) {
      expect(isEquivalent("B", response)).toBe(true);
    }
    expect(isEquivalent("B", "The answer is C")).toBe(false);
    expect(isEquivalent("B", "<think>the answer is A? no</think><answer>B</answer>")).toBe(true);
    expect(isEquivalent("B", "I cannot decide")).toBe(false);
  });
});

/** Typical MATH-style answers, each verdict worked out by hand. */
const handWorked: ReadonlyArray<readonly [string, string, boolean]> = [
  ["C", "The answer is $\\boxed{\\text{(C)}}$", true],
  ["\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}}", true],
  ["x^2+7x+10", "$(x+2)(x+5)$", true],
  ["\\dfrac{7}{2}", "3.5", true],
  ["-\\frac{1}{2}", "$- \\frac 12$", true],
  ["6\\sqrt{2}", "$6 \\sqrt 2$", true],
  ["[-2,7]", "$-2 \\le x \\le 7$", true],
  ["2, -3", "$x = 2 \\text{ or } x = -3$", true],
  ["\\left( \\frac{1}{2}, 3 \\right)", "$(0.5, 3)$", true],
  ["4", "The answer is 4.", true],
  ["17", "so there are 17 ways.\n\nFinal answer: 17", true],
  ["\\$18.90", "18.90", true],
  ["10^\\circ", "10", true],
  ["\\text{odd}", "<answer>odd</answer>", true],
  ["\\text{odd}", "<answer>even</answer>", false],
  ["\\pi", "3.14159265", true],
  ["e", "2.718281828", true],
  ["3", "<answer>3</answer>", true],
  ["\\frac{1}{2}", "$\\frac{1}{2}$ and $\\frac{1}{3}$", false],
  ["(1,2)", "(1, 2)", true],
  ["\\sqrt{2}", "2^{1/2}", true],
  ["\\sqrt[3]{2}", "2^{1/3}", true],
  ["\\log_2 8", "3", true],
  ["\\binom{5}{2}", "10", true],
  ["5!", "120", true],
  ["0.1", "10\\%", false],
  ["y=2x+1", "$y = 1 + 2x$", true],
  ["\\{1,2\\}", "$\\{2, 1\\}$", true],
  ["2+3i", "$3i + 2$", true],
  ["\\text{Monday}", "Monday", true],
  ["\\frac{a}{b}", "$a/b$", true],
  ["\\frac{a+b}{2}", "$\\frac{b+a}{2}$", true],
  ["\\sin(2x)", "$2\\sin x\\cos x$", true],
  ["k = 3", "The value is $k=3$.", true],
  ["x \\in [1, 2)", "$[1,2)$", true],
  ["1000", "1,000", true],
  ["3/4", "0.75", true],
  ["3/4", "0.7", false],
];

describe("isEquivalent: hand-worked answers", () => {
  it.each(handWorked)("%s vs %s → %s", (gold, predicted, expected) => {
    expect(isEquivalent(gold, predicted)).toBe(expected);
  });
});
