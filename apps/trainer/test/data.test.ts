import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidDatasetError } from "@apo-rl/datasets";
import { describe, expect, it } from "vitest";
import { createTrainingData } from "../src/createTrainingData.js";
import { resolveConfig } from "../src/loadConfig.js";
import type { TrainerConfig } from "../src/TrainerConfig.js";

const row = (index: number) =>
  JSON.stringify({ id: `q${index}`, prompt: `What is ${index} + 1?`, answer: String(index + 1) });

const configFor = (data: Record<string, unknown>): TrainerConfig =>
  resolveConfig({ model: { checkpoint: "demo" }, data, train: { steps: 1, seed: 4 } });

describe("training data from the config", () => {
  it("splits a held-out set off a JSONL file, disjoint from the training stream", async () => {
    const directory = mkdtempSync(join(tmpdir(), "apo-data-"));
    const path = join(directory, "train.jsonl");
    writeFileSync(path, `${Array.from({ length: 10 }, (_, index) => row(index)).join("\n")}\n`);
    const data = await createTrainingData(configFor({ format: "jsonl", path, heldOutSize: 3 }));
    const heldOut = data.heldOut.map((example) => example.request.promptId);
    expect(heldOut).toHaveLength(3);
    const trainExamples = data.train.next(7);
    const train = trainExamples.map((example) => example.request.promptId);
    expect(new Set(train).size).toBe(7);
    expect(train.filter((id) => heldOut.includes(id))).toEqual([]);
    expect(new Set([...train, ...heldOut]).size).toBe(10);
    const q4 = [...data.heldOut, ...trainExamples].find((example) => example.request.promptId === "q4");
    expect(q4?.answer).toBe("5");
    // The same seed gives the same split.
    const again = await createTrainingData(configFor({ format: "jsonl", path, heldOutSize: 3 }));
    expect(again.heldOut.map((example) => example.request.promptId)).toEqual(heldOut);
  });

  it("lists every bad row, or skips and counts them with skipInvalid", async () => {
    const directory = mkdtempSync(join(tmpdir(), "apo-data-"));
    const path = join(directory, "train.jsonl");
    writeFileSync(
      path,
      [row(0), "{not json", row(2), JSON.stringify({ prompt: "no answer" }), row(4)].join("\n"),
    );
    const error = await createTrainingData(configFor({ format: "jsonl", path, heldOutSize: 1 })).catch(
      (cause: unknown) => cause,
    );
    expect(error).toBeInstanceOf(InvalidDatasetError);
    expect((error as InvalidDatasetError).problems.map((problem) => problem.row)).toEqual([2, 4]);
    const data = await createTrainingData(
      configFor({ format: "jsonl", path, heldOutSize: 1, skipInvalid: true }),
    );
    expect(data.skipped).toBe(2);
    expect(data.heldOut).toHaveLength(1);
  });

  it("builds the synthetic counting task with its fixed held-out split; the cursor resumes exactly", async () => {
    const data = await createTrainingData(
      configFor({ format: "synthetic", heldOutSize: 4, synthetic: { trainSize: 6, difficulty: 0.2 } }),
    );
    expect(data.heldOut).toHaveLength(4);
    expect(data.heldOut[0]!.request.images).toHaveLength(1);
    expect(data.heldOut[0]!.answer).toMatch(/^\d+$/);
    data.train.next(4);
    const saved = data.train.state();
    const next = data.train.next(5).map((example) => example.request.promptId);
    data.train.restore(saved);
    expect(data.train.next(5).map((example) => example.request.promptId)).toEqual(next);
  });
  it("asks only about the configured target colours", async () => {
    const data = await createTrainingData(
      configFor({
        format: "synthetic",
        heldOutSize: 6,
        synthetic: { trainSize: 8, difficulty: 0.25, targetColors: ["red"] },
      }),
    );
    const questions = [...data.train.next(8), ...data.heldOut].map((example) =>
      JSON.stringify(example.request.messages),
    );
    expect(questions.every((question) => question.includes("How many red shapes are there?"))).toBe(true);
  });

  it("builds the synthetic reasoning task (synthetic.task: reasoning) with its own held-out split", async () => {
    const data = await createTrainingData(
      configFor({
        format: "synthetic",
        heldOutSize: 5,
        synthetic: { task: "reasoning", trainSize: 12, maxCount: 4, targetColors: ["red"] },
      }),
    );
    expect(data.heldOut.map((example) => example.request.promptId)).toEqual(
      Array.from({ length: 5 }, (_, index) => `reasoning-held-out-0000${index + 1}`),
    );
    const answers = [...data.train.next(12), ...data.heldOut].map((example) => Number(example.answer));
    expect(answers.every((answer) => answer >= 1 && answer <= 4)).toBe(true);
    expect(() => configFor({ format: "synthetic", synthetic: { task: "reasoning", maxCount: 12 } })).toThrow(
      /maxCount/,
    );
  });
});
