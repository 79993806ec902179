import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { format, isEquivalent, mathAnswer } from "../src/index.js";

/** Strings made of the pieces LaTeX answers are made of, in any order: the parser must never throw. */
const latexish = fc
  .array(
    fc.constantFrom(
      "\\frac",
      "\\sqrt",
      "\\boxed{",
      "{",
      "}",
      "(",
      ")",
      "[",
      "]",
      "\\{",
      "\\}",
      "^",
      "_",
      "$",
      "\\(",
      "\\)",
      "=",
      "<",
      "\\le",
      "\\pm",
      ",",
      ";",
      ":",
      "|",
      "!",
      "-",
      "+",
      "*",
      "/",
      "x",
      "y",
      "e",
      "\\pi",
      "\\infty",
      "1",
      "0",
      "12",
      "3.5",
      " ",
      "\\text{cm}",
      "\\begin{pmatrix}",
      "\\end{pmatrix}",
      "&",
      "\\\\",
      "and",
      "<answer>",
      "</answer>",
      "final answer is",
      "%",
      "\\cup",
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(""));

describe("fuzz", () => {
  it("mathAnswer never throws and rewards 0 or 1", () => {
    const verifier = mathAnswer();
    fc.assert(
      fc.property(latexish, latexish, (response, reference) => {
        const result = verifier.verify(response, reference);
        expect([0, 1]).toContain(result.reward);
        expect(result.correct).toBe(result.reward === 1);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 400), seed: Number(process.env.FUZZ_SEED ?? 20261123) },
    );
  });

  it("fractions match themselves boxed and as decimals, and not their neighbours", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 1, max: 1e6 }), (top, bottom) => {
        const fraction = `\\frac{${top}}{${bottom}}`;
        expect(isEquivalent(fraction, `$\\boxed{${fraction}}$`)).toBe(true);
        // A decimal is an approximation: the double nearest to top/bottom is within the tolerance.
        expect(isEquivalent(fraction, String(top / bottom))).toBe(true);
        expect(isEquivalent(fraction, `\\frac{${top + 1}}{${bottom}}`)).toBe(false);
      }),
      { numRuns: 200, seed: 7 },
    );
  });

  it("format never rewards a response with a duplicated tag", () => {
    const verifier = format();
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.constantFrom("<think>", "</think>", "<answer>", "</answer>"),
        (text, tag) => {
          const response = `<think>${text}</think><answer>1</answer>`.replace(tag, `${tag}${tag}`);
          expect(verifier.verify(response, "").reward).toBe(0);
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });
});
