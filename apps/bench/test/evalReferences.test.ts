import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BenchSetupError } from "../src/errors.js";
import { loadEvaluationData } from "../src/eval/evaluationData.js";
import { createReferenceCheck } from "../src/rewardVerifier.js";

const writeRows = (answers: ReadonlyArray<string>): string => {
  const directory = mkdtempSync(join(tmpdir(), "apo-bench-references-"));
  const path = join(directory, "eval.jsonl");
  const rows = answers.map((answer, index) => JSON.stringify({ id: `q${index}`, prompt: "Solve.", answer }));
  writeFileSync(path, `${rows.join("\n")}\n`);
  return path;
};

describe("apo-bench eval validates references with the accuracy verifier when the dataset loads", () => {
  const validateAnswer = createReferenceCheck({ preset: "view-r1", accuracy: "math", workers: 0 });

  it("fails on a reference that does not parse, naming the row", async () => {
    const path = writeRows(["3", "\\frac{1}{", "\\sqrt{2}"]);
    const error = await loadEvaluationData({ kind: "file", path }, { validateAnswer }).catch(
      (cause: unknown) => cause,
    );
    expect(error).toBeInstanceOf(BenchSetupError);
    expect((error as BenchSetupError).message).toMatch(/row 2/);
    expect((error as BenchSetupError).message).toMatch(/unparseable/);
  });

  it("skips and counts it with --skip-invalid", async () => {
    const path = writeRows(["3", "\\frac{1}{", "\\sqrt{2}"]);
    const data = await loadEvaluationData({ kind: "file", path, skipInvalid: true }, { validateAnswer });
    expect(data.skippedRows).toBe(1);
    expect(data.items.map((item) => item.answer)).toEqual(["3", "\\sqrt{2}"]);
  });

  it("accepts every reference when no check is given (unchanged behaviour)", async () => {
    const path = writeRows(["3", "\\frac{1}{"]);
    const data = await loadEvaluationData({ kind: "file", path });
    expect(data.items).toHaveLength(2);
    expect(data.skippedRows).toBe(0);
  });
});
