import { InvalidInputError } from "@apo-rl/core";
import { Effect, Exit } from "effect";
import { describe, expect, it } from "vitest";
import {
  choice,
  composite,
  counting,
  findInvalidReferences,
  format,
  groundingIou,
  InvalidReferenceError,
  intersectionOverUnion,
  mathAnswer,
  parseBox,
  parseReference,
  referenceProblem,
  validateReference,
  viewR1Reward,
} from "../src/index.js";

describe("format", () => {
  const verifier = format();
  it("rewards exactly one <think> block then one non-empty <answer> block", () => {
    expect(verifier.verify("<think>work</think><answer>42</answer>", "").reward).toBe(1);
    expect(verifier.verify("  <think>\nwork\n</think>\n<answer> 42 </answer>\n", "").reward).toBe(1);
  });

  const hacks: ReadonlyArray<readonly [string, string]> = [
    ["duplicated answer", "<think>a</think><answer>1</answer><answer>2</answer>"],
    ["duplicated think", "<think>a</think><think>b</think><answer>1</answer>"],
    ["empty answer", "<think>a</think><answer>   </answer>"],
    ["answer inside think", "<think>a <answer>1</answer></think>"],
    ["answer inside think, then another", "<think><answer>1</answer></think><answer>1</answer>"],
    ["unclosed think", "<think>a <answer>1</answer>"],
    ["unclosed answer", "<think>a</think><answer>1"],
    ["text after answer", "<think>a</think><answer>1</answer> and more"],
    ["text before think", "Sure! <think>a</think><answer>1</answer>"],
    ["text between blocks", "<think>a</think> so <answer>1</answer>"],
    ["answer before think", "<answer>1</answer><think>a</think>"],
    ["no tags", "the answer is 1"],
    ["upper-case duplicate", "<think>a</think><answer>1</answer><ANSWER>2</ANSWER>"],
    ["closing before opening", "<think>a</think></answer>1<answer>"],
  ];
  it.each(hacks)("gives 0 to %s", (_, response) => {
    const result = verifier.verify(response, "");
    expect(result.reward).toBe(0);
    expect(result.correct).toBe(false);
    expect(typeof result.details.reason).toBe("string");
  });

  it("can require the answer block only", () => {
    expect(format({ requireThink: false }).verify("<answer>1</answer>", "").reward).toBe(1);
    expect(format({ requireThink: false }).verify("<answer></answer>", "").reward).toBe(0);
  });

  it("rejects bad options with an error naming the field", () => {
    expect(() => format({ requireThink: "yes" as unknown as boolean })).toThrow(InvalidInputError);
    try {
      format({ requireThink: "yes" as unknown as boolean });
    } catch (error) {
      expect((error as InvalidInputError).field).toBe("requireThink");
    }
  });
});

describe("mathAnswer", () => {
  const verifier = mathAnswer();
  it("implements VerifierV1 and rewards equivalent answers", () => {
    expect(verifier.specificationVersion).toBe("v1");
    expect(verifier.verify("<think>…</think><answer>\\frac{1}{2}</answer>", "0.5")).toMatchObject({
      reward: 1,
      correct: true,
      details: { reason: "match" },
    });
    expect(verifier.verify("<answer>3</answer>", "0.5")).toMatchObject({ reward: 0, correct: false });
  });

  it("never rewards against an unparseable reference", () => {
    const result = verifier.verify("<answer>(</answer>", "(");
    expect(result).toMatchObject({ reward: 0, correct: false, details: { reason: "invalid-reference" } });
  });

  it("bounds input length", () => {
    const result = mathAnswer({ maxInputLength: 100 }).verify("1".repeat(101), "1");
    expect(result).toMatchObject({ reward: 0, details: { reason: "too-long" } });
  });
});

describe("references", () => {
  it("parses a good reference and reports a bad one with its row", () => {
    expect(parseReference("\\frac{1}{2}").normalized).toBe("\\frac{1}{2}");
    expect(() => parseReference("\\frac{1}{", { row: 7 })).toThrow(InvalidReferenceError);
    try {
      parseReference("[1, 2", { row: 7 });
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidReferenceError);
      expect((error as InvalidReferenceError).row).toBe(7);
      expect((error as InvalidReferenceError).message).toContain("row 7");
    }
    expect(() => parseReference("   ")).toThrow(/empty/);
  });

  it("has an Effect form and a batch form", () => {
    const exit = Effect.runSyncExit(validateReference("(1,", { row: 3 }));
    expect(Exit.isFailure(exit)).toBe(true);
    const problems = findInvalidReferences(["1", "(", "\\sqrt{2}", ""]);
    expect(problems.map((problem) => problem.row)).toEqual([1, 3]);
    expect(referenceProblem("\\frac{1}{2}")).toBeUndefined();
    expect(referenceProblem("[1, 2")).toMatch(/^unparseable: /);
  });
});

describe("choice", () => {
  it("matches letters in their usual spellings", () => {
    const verifier = choice();
    for (const response of ["B", "(B)", "B.", "The answer is B.", "<answer>(B)</answer>"]) {
      expect(verifier.verify(response, "B").reward).toBe(1);
    }
    expect(verifier.verify("The answer is C.", "B").reward).toBe(0);
  });

  it("matches option text against a letter reference and vice versa", () => {
    const verifier = choice({ options: ["red", "green", "blue"] });
    expect(verifier.verify("<answer>green</answer>", "B").correct).toBe(true);
    expect(verifier.verify("<answer>B</answer>", "green").correct).toBe(true);
    expect(verifier.verify("<answer>blue</answer>", "B").correct).toBe(false);
  });
});

describe("groundingIou", () => {
  it("parses boxes as JSON or text", () => {
    expect(parseBox('{"bbox_2d": [10, 20, 30, 40], "label": "cat"}')).toEqual([10, 20, 30, 40]);
    expect(parseBox("the box is [1.5, 2, 3, 4.25].")).toEqual([1.5, 2, 3, 4.25]);
    expect(parseBox("[3, 3, 1, 1]")).toBeUndefined();
    expect(parseBox("<|box_start|>(10,20),(30,40)<|box_end|>")).toEqual([10, 20, 30, 40]);
    expect(parseBox('{"x1": 1, "y1": 2, "x2": 5, "y2": 6}')).toEqual([1, 2, 5, 6]);
    expect(parseBox("first [0, 0, 1, 1] then (2,2),(3,3)")).toEqual([2, 2, 3, 3]);
  });

  it("computes IoU by hand-worked example", () => {
    // Overlap of [0,0,2,2] and [1,1,3,3] is 1×1; union 4 + 4 − 1 = 7.
    expect(intersectionOverUnion([0, 0, 2, 2], [1, 1, 3, 3])).toBeCloseTo(1 / 7, 12);
    expect(intersectionOverUnion([0, 0, 1, 1], [2, 2, 3, 3])).toBe(0);
  });

  it("rewards IoU or IoU ≥ threshold", () => {
    const response = "<answer>[1, 1, 3, 3]</answer>";
    expect(groundingIou().verify(response, "[0, 0, 2, 2]").reward).toBeCloseTo(1 / 7, 12);
    expect(groundingIou({ mode: "threshold", threshold: 0.1 }).verify(response, "[0, 0, 2, 2]").reward).toBe(
      1,
    );
    expect(groundingIou({ mode: "threshold", threshold: 0.5 }).verify(response, "[0, 0, 2, 2]").reward).toBe(
      0,
    );
    expect(groundingIou().verify("no box", "[0, 0, 2, 2]").details.reason).toBe("no-answer");
  });
});

describe("counting", () => {
  const verifier = counting();
  it("reads integers and number words", () => {
    expect(verifier.verify("<answer>7</answer>", "7").correct).toBe(true);
    expect(verifier.verify("I count seven apples.", "7").correct).toBe(true);
    expect(verifier.verify("There are twenty-one birds", "21").correct).toBe(true);
    expect(verifier.verify("one hundred and five", "105").correct).toBe(true);
    expect(verifier.verify("first 3, then 1,204 in total", "1204").correct).toBe(true);
    expect(verifier.verify("six", "7").correct).toBe(false);
    expect(verifier.verify("nothing", "7").details.reason).toBe("no-answer");
  });
});

describe("composite", () => {
  it("is the weighted sum with a breakdown; correct comes from accuracy only", () => {
    const verifier = viewR1Reward();
    const good = verifier.verify("<think>2+2</think><answer>4</answer>", "4");
    expect(good.reward).toBe(1.5);
    expect(good.correct).toBe(true);
    expect(good.details.breakdown).toMatchObject({
      accuracy: { reward: 1, weight: 1 },
      format: { reward: 0.5, weight: 0.5 },
    });
    const wrongButWellFormed = verifier.verify("<think>2+2</think><answer>5</answer>", "4");
    expect(wrongButWellFormed).toMatchObject({ reward: 0.5, correct: false });
    const rightButMalformed = verifier.verify("the answer is 4", "4");
    expect(rightButMalformed).toMatchObject({ reward: 1, correct: true });
  });

  it("rejects a correctFrom that is not a part", () => {
    expect(() => composite({ parts: { format: { verifier: format(), weight: 1 } } })).toThrow(/correctFrom/);
  });
});
