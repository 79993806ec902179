import { InvalidInputError } from "@apo-rl/core";
import { describe, expect, it } from "vitest";
import {
  type DatasetItem,
  reasoningSolution,
  resolveSyntheticReasoningOptions,
  syntheticCountingTask,
  syntheticReasoningTask,
} from "../src/index.js";
import { components, decode } from "./support/imageComponents.js";

const questionOf = (item: DatasetItem): string => {
  const content = item.messages[0]!.content;
  return typeof content === "string" ? content : content.find((part) => part.type === "text")!.text;
};

/** Whitespace-separated words, as the demo tokenizer splits the solution. */
const words = (text: string) => text.split(/\s+/).filter((word) => word !== "");

describe("syntheticReasoningTask", () => {
  const task = syntheticReasoningTask({ seed: 5, trainSize: 240, heldOutSize: 60, targetColors: ["red"] });
  const all = [...task.train, ...task.heldOut];

  it("renders PNGs whose red shapes, counted by flood fill, are the answer; categories name the count", () => {
    for (const item of all) {
      const { width, height, labels } = decode(item);
      expect([width, height]).toEqual([56, 56]);
      expect(labels).not.toContain("unknown");
      const found = components(item);
      const red = found.filter((component) => component.color === "red").length;
      expect(String(red)).toBe(item.answer);
      expect(item.category).toBe(`count-${red}`);
      // At most 1 + ⌊count/2⌋ distractors.
      expect(found.length - red).toBeLessThanOrEqual(1 + Math.floor(red / 2));
      expect(questionOf(item)).toBe("How many red shapes are there?");
    }
  });

  it("mixes every count 1 … maxCount within the first batches (trivial to hard in one batch)", () => {
    const counts = all.map((item) => Number(item.answer));
    expect(new Set(counts)).toEqual(new Set([1, 2, 3, 4, 5, 6]));
    // Uniform draw: each count is about 1/6 of 300 items (50 ± 4 sd; allow ±25).
    for (let count = 1; count <= 6; count++)
      expect(Math.abs(counts.filter((value) => value === count).length - 50)).toBeLessThan(25);
    // A batch of 16 consecutive training items already spans easy and hard items.
    for (let start = 0; start + 16 <= task.train.length; start += 16) {
      const batch = task.train.slice(start, start + 16).map((item) => Number(item.answer));
      expect(Math.min(...batch)).toBeLessThanOrEqual(2);
      expect(Math.max(...batch)).toBeGreaterThanOrEqual(5);
    }
  });

  it("is deterministic from its seed; the held-out split is fixed and disjoint from any training split", () => {
    const again = syntheticReasoningTask({ seed: 5, trainSize: 240, heldOutSize: 60, targetColors: ["red"] });
    expect(again.train.map((item) => item.images[0])).toEqual(task.train.map((item) => item.images[0]));
    const other = syntheticReasoningTask({ seed: 6, trainSize: 240, heldOutSize: 60, targetColors: ["red"] });
    expect(other.heldOut.map((item) => item.images[0])).toEqual(task.heldOut.map((item) => item.images[0]));
    expect(other.train.map((item) => item.answer)).not.toEqual(task.train.map((item) => item.answer));
    const key = (item: DatasetItem) => Buffer.from(item.images[0] as Uint8Array).toString("base64");
    const heldOut = new Set(task.heldOut.map(key));
    for (const split of [task.train, other.train])
      expect(split.filter((item) => heldOut.has(key(item)))).toEqual([]);
    expect(task.heldOut[0]!.id).toBe("reasoning-held-out-00001");
    expect(task.train[0]!.id).toBe("reasoning-train-00001");
  });

  it("draws other images than the counting task", () => {
    const counting = syntheticCountingTask({ seed: 5, trainSize: 20, heldOutSize: 0 });
    const key = (item: DatasetItem) => Buffer.from(item.images[0] as Uint8Array).toString("base64");
    const seen = new Set(counting.train.map(key));
    expect(task.train.slice(0, 20).filter((item) => seen.has(key(item)))).toEqual([]);
  });

  it("fills defaults and rejects bad options naming the field", () => {
    expect(resolveSyntheticReasoningOptions()).toMatchObject({ maxCount: 6, imageSize: 56, heldOutSize: 64 });
    expect(() => syntheticReasoningTask({ maxCount: 9 })).toThrow(/maxCount/);
    expect(() => syntheticReasoningTask({ imageSize: 40 })).toThrow(InvalidInputError);
    expect(() => syntheticReasoningTask({ targetColors: [] })).toThrow(/targetColors/);
  });
});

describe("reasoningSolution", () => {
  it("enumerates every counted shape before the answer", () => {
    expect(reasoningSolution("How many red shapes are there?", "3")).toBe(
      "<think> red 1 red 2 red 3 </think> <answer> 3 </answer>",
    );
    expect(reasoningSolution("How many blue shapes are there?", " 1 ")).toBe(
      "<think> blue 1 </think> <answer> 1 </answer>",
    );
  });

  it("grows by two words per counted shape", () => {
    for (let count = 1; count <= 8; count++)
      expect(words(reasoningSolution("How many red shapes are there?", String(count)))).toHaveLength(
        5 + 2 * count,
      );
  });

  it("rejects other questions and answers that are not counts", () => {
    expect(() => reasoningSolution("How many red and blue shapes are there in total?", "3")).toThrow(
      InvalidInputError,
    );
    expect(() => reasoningSolution("How many red shapes are there?", "0")).toThrow(/count of at least 1/);
    expect(() => reasoningSolution("How many red shapes are there?", "2.5")).toThrow(/answer/);
  });
});
