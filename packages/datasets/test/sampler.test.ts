import { InvalidInputError } from "@apo-rl/core";
import { describe, expect, it } from "vitest";
import { DatasetSampler, decodeDatasetCursor, epochOrder, startCursor } from "../src/index.js";

const items = Array.from({ length: 10 }, (_, index) => `item-${index}`);
const sorted = (values: ReadonlyArray<string>) => [...values].sort();

describe("epochOrder", () => {
  it("is a permutation, the same for the same (seed, epoch), different across epochs and seeds", () => {
    const order = epochOrder(100, 3, 0);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, index) => index));
    expect(epochOrder(100, 3, 0)).toEqual(order);
    expect(epochOrder(100, 3, 1)).not.toEqual(order);
    expect(epochOrder(100, 4, 0)).not.toEqual(order);
    expect(epochOrder(5, 3, 0, { shuffle: false })).toEqual([0, 1, 2, 3, 4]);
  });
});

describe("DatasetSampler", () => {
  it("visits every item exactly once per epoch, in a new order each epoch", () => {
    const sampler = new DatasetSampler(items, { seed: 11 });
    const first = sampler.take(10);
    expect(sampler.cursor).toEqual({ epoch: 1, index: 0, seed: 11 });
    const second = sampler.take(10);
    expect(sorted(first)).toEqual(sorted(items));
    expect(sorted(second)).toEqual(sorted(items));
    expect(second).not.toEqual(first);
    expect(first).toEqual(epochOrder(10, 11, 0).map((index) => items[index]));
  });

  it("keeps the dataset order with shuffle: false", () => {
    const sampler = new DatasetSampler(items, { shuffle: false });
    expect(sampler.take(13)).toEqual([...items, "item-0", "item-1", "item-2"]);
  });

  it("resumed from a saved cursor yields exactly the remaining sequence, at every cut point", () => {
    const straight = new DatasetSampler(items, { seed: 7 }).take(35);
    for (let cut = 0; cut <= 35; cut++) {
      const before = new DatasetSampler(items, { seed: 7 });
      const head = before.take(cut);
      const saved = JSON.stringify(before.cursor);
      const resumed = new DatasetSampler(items, { cursor: decodeDatasetCursor(JSON.parse(saved)) });
      expect([...head, ...resumed.take(35 - cut)]).toEqual(straight);
    }
  });

  it("restOfEpoch finishes the current epoch", () => {
    const sampler = new DatasetSampler(items, { seed: 2, cursor: { epoch: 3, index: 6, seed: 2 } });
    const rest = sampler.restOfEpoch();
    expect(rest).toEqual(
      epochOrder(10, 2, 3)
        .slice(6)
        .map((index) => items[index]),
    );
    expect(sampler.cursor).toEqual({ epoch: 4, index: 0, seed: 2 });
  });

  it("treats a cursor at the end of an epoch as the start of the next", () => {
    expect(new DatasetSampler(items, { cursor: { epoch: 0, index: 10, seed: 1 } }).cursor).toEqual({
      epoch: 1,
      index: 0,
      seed: 1,
    });
    expect(startCursor(9)).toEqual({ epoch: 0, index: 0, seed: 9 });
  });

  it.each([
    [{ epoch: 0, index: 11, seed: 1 }, "index"],
    [{ epoch: -1, index: 0, seed: 1 }, "epoch"],
    [{ epoch: 0, index: 0, seed: 2 ** 32 }, "seed"],
    [{ epoch: 0, index: 0.5, seed: 1 }, "index"],
  ])("rejects the cursor %j naming %s", (cursor, field) => {
    try {
      new DatasetSampler(items, { cursor });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).field).toBe(field);
    }
  });

  it("refuses an empty dataset", () => {
    expect(() => new DatasetSampler([], { seed: 1 })).toThrow(InvalidInputError);
  });
});
