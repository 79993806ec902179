import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_INPUT_LENGTH,
  explainEquivalence,
  isEquivalent,
  mathAnswer,
  viewR1Reward,
} from "../src/index.js";

/**
 * Property-based tests over generated LaTeX and junk strings up to the input cap (issue #16, item 5):
 * every call returns a verdict (never an exception) well within the pool's default time limit, and
 * comparisons of constants are symmetric, as Math-Verify's are. 10 000 cases per run; `FUZZ_SCALE`
 * multiplies the counts, `FUZZ_SEED` changes the seed.
 */
const scale = Number(process.env.FUZZ_SCALE ?? 1);
const seed = Number(process.env.FUZZ_SEED ?? 20261206);
const runs = (count: number): number => Math.max(1, Math.round(count * scale));

/** The pool's default time limit per verification. */
const timeLimitMs = 2000;

const math = mathAnswer();
const viewR1 = viewR1Reward();

// mathjs (the symbolic fallback) loads lazily on first use; the pool does not count its load time
// against the limit either, so load it before timing anything.
beforeAll(() => {
  isEquivalent("$\\sqrt{-4-x^2}$", "$\\sqrt{-5-x^2}$");
});

const timed = (verify: () => { reward: number; details: Readonly<Record<string, unknown>> }): void => {
  const start = performance.now();
  const result = verify();
  expect(performance.now() - start).toBeLessThan(timeLimitMs);
  expect(Number.isFinite(result.reward)).toBe(true);
  expect(result.reward).toBeGreaterThanOrEqual(0);
  expect(result.reward).toBeLessThanOrEqual(1.5);
};

/** mathAnswer both ways round and viewR1Reward once; fail on an exception, a bad reward or a slow call. */
const checkVerdicts = (response: string, reference: string): void => {
  timed(() => math.verify(response, reference));
  timed(() => math.verify(reference, response));
  timed(() => viewR1.verify(response, reference));
};

const smallInteger = fc.integer({ min: -50, max: 200 }).map(String);
const decimal = fc
  .tuple(fc.integer({ min: 0, max: 999 }), fc.integer({ min: 0, max: 9999 }))
  .map(([a, b]) => `${a}.${b}`);
const symbol = fc.constantFrom("x", "y", "z", "a", "b", "n", "\\pi", "e", "\\alpha", "y'", "f(x)");

/** Well-formed LaTeX expressions, nested up to a few levels. */
const { expression } = fc.letrec((tie) => ({
  expression: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    smallInteger,
    decimal,
    symbol,
    fc.tuple(tie("expression"), tie("expression")).map(([a, b]) => `\\frac{${a}}{${b}}`),
    tie("expression").map((a) => `\\sqrt{${a}}`),
    fc.tuple(tie("expression"), fc.integer({ min: -6000, max: 6000 })).map(([a, k]) => `{${a}}^{${k}}`),
    fc
      .tuple(tie("expression"), fc.constantFrom("+", "-", "\\cdot ", "\\times ", "/"), tie("expression"))
      .map(([a, operator, b]) => `${a} ${operator} ${b}`),
    tie("expression").map((a) => `\\left(${a}\\right)`),
    fc
      .tuple(fc.constantFrom("\\sin", "\\cos", "\\ln", "\\log", "\\exp", "\\tan"), tie("expression"))
      .map(([name, a]) => `${name}(${a})`),
    fc.integer({ min: 0, max: 3000 }).map((n) => `${n}!`),
    tie("expression").map((a) => `\\pm ${a}`),
    fc.array(tie("expression"), { minLength: 1, maxLength: 4 }).map((items) => `\\{${items.join(", ")}\\}`),
    fc
      .tuple(tie("expression"), tie("expression"), fc.constantFrom("()", "[]", "(]", "[)"))
      .map(([a, b, ends]) => `${ends[0]}${a}, ${b}${ends[1]}`),
    fc
      .tuple(tie("expression"), fc.constantFrom("=", "<", "\\le", "\\approx", "\\neq"), tie("expression"))
      .map(([a, relation, b]) => `${a} ${relation} ${b}`),
    fc
      .tuple(smallInteger, fc.constantFrom("\\text{ cm}", "\\%", "^\\circ", " percent", "\\text{ (C)}"))
      .map(([a, unit]) => `${a}${unit}`),
    fc
      .tuple(tie("expression"), tie("expression"))
      .map(([a, b]) => `\\begin{pmatrix}${a} & ${b}\\end{pmatrix}`),
    fc.tuple(tie("expression"), tie("expression")).map(([a, b]) => `${a} \\cup ${b}`),
  ),
}));

/** An expression placed in a response the way models write them. */
const response = fc
  .tuple(
    expression,
    fc.constantFrom(
      "$X$",
      "\\boxed{X}",
      "<answer>X</answer>",
      "The final answer is $X$.",
      "X",
      "\\(X\\) and \\(X\\)",
      "$$X$$",
    ),
  )
  .map(([text, wrapper]) => wrapper.replaceAll("X", text));

/** Pieces of LaTeX and prose in any order (unbalanced, truncated, hostile). */
const piece = fc.constantFrom(
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
  "$$",
  "\\(",
  "\\)",
  "\\[",
  "\\]",
  "=",
  "<",
  "\\le",
  "\\approx",
  "\\pm",
  ",",
  ";",
  ":",
  "|",
  "!",
  "'",
  "-",
  "+",
  "*",
  "/",
  "x",
  "e",
  "\\pi",
  "\\infty",
  "1",
  "0",
  "12",
  "3.5",
  "1,000",
  "2,5",
  " ",
  "\\text{cm}",
  "\\text{(C)}",
  "\\$",
  "\\begin{pmatrix}",
  "\\end{pmatrix}",
  "&",
  "\\\\",
  "and",
  " or ",
  "<answer>",
  "</answer>",
  "final answer is",
  "%",
  "percentage",
  "\\cup",
  "\\cap",
  "\\setminus",
  "\\left(",
  "\\right)",
  "\\fbox{",
  "\\dfrac",
  "^{",
  "\\text{",
  "\\mathrm{",
);

describe("fuzz suite: verdicts for any input, within the time limit", () => {
  it("generated LaTeX answers, as response and as reference", () => {
    fc.assert(
      fc.property(response, expression, (given, reference) => checkVerdicts(given, reference)),
      { numRuns: runs(3000), seed },
    );
  });

  it("short junk strings: random characters and LaTeX pieces", () => {
    const junk = fc.oneof(
      fc.string({ maxLength: 120 }),
      fc.string({ unit: "binary", maxLength: 60 }),
      fc.array(piece, { maxLength: 80 }).map((parts) => parts.join("")),
    );
    fc.assert(
      fc.property(junk, junk, (given, reference) => checkVerdicts(given, reference)),
      {
        numRuns: runs(4200),
        seed: seed + 1,
      },
    );
  });

  it("long junk strings up to the input cap", () => {
    const long = fc
      .tuple(
        fc.array(piece, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 100, max: DEFAULT_MAX_INPUT_LENGTH }),
      )
      .map(([parts, length]) => {
        const unit = parts.join("");
        return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
      });
    fc.assert(
      fc.property(long, smallInteger, (given, reference) => checkVerdicts(given, reference)),
      {
        numRuns: runs(300),
        seed: seed + 2,
      },
    );
  });

  it("hostile repetitions up to the cap: factorials, long sums, nesting, towers", () => {
    const hostile = fc
      .tuple(
        fc.constantFrom(
          (n: number) => `3${"!".repeat(n)}`,
          (n: number) => Array.from({ length: n }, () => "1").join("+"),
          (n: number) => `${"{".repeat(n)}1${"}".repeat(n)}`,
          (n: number) => `${"(".repeat(n)}1${")".repeat(n)}`,
          (n: number) => `${"\\frac{1}{".repeat(n)}2${"}".repeat(n)}`,
          (n: number) => `${"\\sqrt{".repeat(n)}2${"}".repeat(n)}`,
          (n: number) => `${"2^{".repeat(n)}2${"}".repeat(n)}`,
          (n: number) => `${"-".repeat(n)}1`,
          (n: number) => `\\boxed{${"x".repeat(n)}}`,
          (n: number) => "\\boxed{1} ".repeat(n),
        ),
        fc.integer({ min: 1, max: 9_000 }),
        fc.constantFrom("$X$", "\\boxed{X}", "X"),
      )
      .map(([shape, count, wrapper]) =>
        wrapper.replace("X", shape(count)).slice(0, DEFAULT_MAX_INPUT_LENGTH),
      );
    fc.assert(
      fc.property(hostile, (given) => checkVerdicts(given, "3")),
      { numRuns: runs(300), seed: seed + 3 },
    );
  });

  it("constants compare symmetrically (as Math-Verify's numeric comparison does)", () => {
    const constant = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        smallInteger,
        decimal,
        fc.constantFrom(
          "\\pi",
          "e",
          "\\sqrt{2}",
          "1000!",
          "2^{5000}",
          "3^{5000}",
          "e^{1000}",
          "2^{-5000}",
          "0",
        ),
        fc.tuple(tie("value"), tie("value")).map(([a, b]) => `\\frac{${a}}{${b}}`),
        fc
          .tuple(tie("value"), fc.constantFrom("+", "-", "\\cdot"), tie("value"))
          .map(([a, o, b]) => `${a} ${o} ${b}`),
        fc.tuple(tie("value"), fc.integer({ min: -40, max: 40 })).map(([a, k]) => `{${a}}^{${k}}`),
      ),
    })).value;
    fc.assert(
      fc.property(constant, constant, (left, right) => {
        const forward = isEquivalent(`$${left}$`, `$${right}$`);
        const backward = isEquivalent(`$${right}$`, `$${left}$`);
        expect({ left, right, forward }).toEqual({ left, right, forward: backward });
        expect(
          isEquivalent(`$${left}$`, `$${left}$`) ||
            explainEquivalence(`$${left}$`, "0").reason !== "mismatch",
        ).toBe(true);
      }),
      { numRuns: runs(2200), seed: seed + 4 },
    );
  });
});
