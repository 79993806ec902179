import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidDatasetError } from "@apo-rl/datasets";
import { describe, expect, it } from "vitest";
import { createTrainingData } from "../src/createTrainingData.js";
import { resolveConfig } from "../src/loadConfig.js";
import { referenceValidatorFromConfig } from "../src/referenceValidation.js";

const configFor = (data: Record<string, unknown>, accuracy: "math" | "counting" | "choice" = "math") =>
  resolveConfig({ model: { checkpoint: "demo" }, data, train: { steps: 1, seed: 4 }, reward: { accuracy } });

const writeRows = (answers: ReadonlyArray<string>): string => {
  const directory = mkdtempSync(join(tmpdir(), "apo-references-"));
  const path = join(directory, "train.jsonl");
  const rows = answers.map((answer, index) => JSON.stringify({ id: `q${index}`, prompt: "Solve.", answer }));
  writeFileSync(path, `${rows.join("\n")}\n`);
  return path;
};

describe("references are validated by the configured accuracy verifier at load", () => {
  it("a reference that does not parse fails the load, naming its row; --skip-invalid skips and counts it", async () => {
    const path = writeRows(["\\frac{1}{2}", "\\frac{1}{", "42", "x^2+1", `3${"!".repeat(2_000)}`]);
    const error = await createTrainingData(configFor({ format: "jsonl", path, heldOutSize: 1 })).catch(
      (cause: unknown) => cause,
    );
    expect(error).toBeInstanceOf(InvalidDatasetError);
    const problems = (error as InvalidDatasetError).problems;
    expect(problems.map((problem) => problem.row)).toEqual([2, 5]);
    expect(problems[0]?.field).toBe("answer");
    expect(problems[0]?.reason).toMatch(
      /unusable reference answer: math-answer cannot read it \(unparseable/,
    );
    expect(problems[1]?.reason).toMatch(/too-deep/);

    const data = await createTrainingData(
      configFor({ format: "jsonl", path, heldOutSize: 1, skipInvalid: true }),
    );
    expect(data.skipped).toBe(2);
    const answers = [...data.heldOut, ...data.train.next(2)].map((example) => example.answer).sort();
    expect(answers).toEqual(["42", "\\frac{1}{2}", "x^2+1"]);
  });

  it("uses the accuracy verifier of the config: counting needs a number, choice a letter", () => {
    const counting = referenceValidatorFromConfig(configFor({ format: "synthetic" }, "counting"));
    expect(counting("7")).toBeUndefined();
    expect(counting("seven")).toBeUndefined();
    expect(counting("many")).toMatch(/counting cannot read it/);
    const choice = referenceValidatorFromConfig(configFor({ format: "synthetic" }, "choice"));
    expect(choice("(B)")).toBeUndefined();
    expect(choice("")).toBeDefined();
    const math = referenceValidatorFromConfig(configFor({ format: "synthetic" }, "math"));
    expect(math("\\{1,3\\} \\cup \\{2,4\\}")).toBeUndefined();
    expect(math("\\frac{1}{")).toMatch(/unparseable/);
  });
});
