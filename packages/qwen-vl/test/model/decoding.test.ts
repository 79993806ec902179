import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  disposeQwen25VLCache,
  loadQwen25VL,
  type Qwen25VLCache,
  type Qwen25VLModel,
  selectQwen25VLCacheRows,
} from "../../src/index.js";
import { testBackendNames, useBackend } from "./support/backend.js";
import { type Fixture, fixtureDirectory, loadFixture, maxAbsDiff } from "./support/fixtures.js";

const image = loadFixture("image");
const textOnly = loadFixture("text_only");
const pixels = new Float32Array(image.inputs.pixel_values!.flat());
const grid = image.inputs.image_grid_thw!;

const argmax = (row: ArrayLike<number>): number => {
  let best = 0;
  for (let index = 1; index < row.length; index++) if (row[index]! > row[best]!) best = index;
  return best;
};

/** Greedy decoding with the KV cache: prefill, then one token at a time. */
const greedy = (model: Qwen25VLModel, fixture: Fixture, steps: number) => {
  const withImage = fixture.inputs.pixel_values !== undefined;
  const prefill = model.forward(
    {
      inputIds: [fixture.inputs.input_ids],
      ...(withImage ? { pixelValues: pixels, imageGridThw: grid } : {}),
    },
    { logits: "last", cache: true },
  );
  let cache = prefill.cache!;
  let logits = prefill.logits!;
  prefill.hiddenStates.dispose();
  const ids: number[] = [];
  const stepLogits: Float32Array[] = [];
  for (let step = 0; step < steps; step++) {
    const row = logits.dataSync() as Float32Array;
    stepLogits.push(row.slice());
    ids.push(argmax(row));
    logits.dispose();
    if (step === steps - 1) break;
    const next = model.forward({ inputIds: [[ids.at(-1)!]] }, { logits: "last", cache });
    disposeQwen25VLCache(cache);
    next.hiddenStates.dispose();
    cache = next.cache!;
    logits = next.logits!;
  }
  disposeQwen25VLCache(cache);
  return { ids, stepLogits };
};

const uncachedLastLogits = (model: Qwen25VLModel, ids: number[]) => {
  const output = model.forward(
    { inputIds: [ids], pixelValues: pixels, imageGridThw: grid },
    { logits: "last" },
  );
  const row = output.logits!.dataSync().slice();
  tf.dispose([output.hiddenStates, output.logits!]);
  return row;
};

/** Left-pad rows to one length. */
const leftPad = (rows: number[][], pad: number) => {
  const width = Math.max(...rows.map((row) => row.length));
  return {
    inputIds: rows.map((row) => [...Array(width - row.length).fill(pad), ...row]),
    attentionMask: rows.map((row) => [...Array(width - row.length).fill(0), ...row.map(() => 1)]),
    width,
  };
};

describe.each(testBackendNames)("KV-cached decoding and batching (%s)", (backend) => {
  let model: Qwen25VLModel;
  let available = false;
  let tensorsBefore = 0;

  beforeAll(async () => {
    available = await useBackend(backend);
    if (!available) return;
    model = await loadQwen25VL(fixtureDirectory("image"));
    tensorsBefore = tf.memory().numTensors;
  });

  afterAll(() => {
    if (!available) return;
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    model.dispose();
  });

  it("greedy decoding reproduces greedy_new_ids and greedy_step_logits of the image fixture", ({ skip }) => {
    if (!available) skip();
    const { ids, stepLogits } = greedy(model, image, image.greedy_new_ids.length);
    expect(ids).toEqual(image.greedy_new_ids);
    stepLogits.forEach((row, step) => {
      expect(maxAbsDiff(row, image.greedy_step_logits[step]!)).toBeLessThan(1e-5);
    });
  });

  it("greedy decoding reproduces the text-only fixture", ({ skip }) => {
    if (!available) skip();
    const { ids, stepLogits } = greedy(model, textOnly, textOnly.greedy_new_ids.length);
    expect(ids).toEqual(textOnly.greedy_new_ids);
    stepLogits.forEach((row, step) => {
      expect(maxAbsDiff(row, textOnly.greedy_step_logits[step]!)).toBeLessThan(1e-5);
    });
  });

  it("cached and uncached logits agree within 1e-5", ({ skip }) => {
    if (!available) skip();
    const continuation = [17, 230, 42];
    const prefill = model.forward(
      { inputIds: [image.inputs.input_ids], pixelValues: pixels, imageGridThw: grid },
      { cache: true },
    );
    prefill.hiddenStates.dispose();
    let cache: Qwen25VLCache = prefill.cache!;
    const sequence = [...image.inputs.input_ids];
    for (const token of continuation) {
      sequence.push(token);
      const step = model.forward({ inputIds: [[token]] }, { logits: "last", cache });
      expect(step.positionIds[0]![0]).toEqual([sequence.length - 1 + image.rope_deltas]);
      expect(maxAbsDiff(step.logits!.dataSync(), [...uncachedLastLogits(model, sequence)])).toBeLessThan(
        1e-5,
      );
      disposeQwen25VLCache(cache);
      tf.dispose([step.hiddenStates, step.logits!]);
      cache = step.cache!;
    }
    expect(cache.length).toBe(sequence.length);
    disposeQwen25VLCache(cache);
  });

  it("a left-padded batch of both fixtures gives each one's numbers, prefill and decoding", ({ skip }) => {
    if (!available) skip();
    const { inputIds, attentionMask, width } = leftPad(
      [textOnly.inputs.input_ids, image.inputs.input_ids],
      0,
    );
    const output = model.forward(
      { inputIds, attentionMask, pixelValues: pixels, imageGridThw: grid },
      { logits: true, cache: true },
    );
    const vocab = image.logits[0]!.length;
    const logits = output.logits!.arraySync() as number[][][];
    const offset = width - textOnly.inputs.input_ids.length;
    expect(maxAbsDiff(logits[0]!.slice(offset).flat(), textOnly.logits)).toBeLessThan(1e-5);
    expect(maxAbsDiff(logits[1]!.flat(), image.logits)).toBeLessThan(1e-5);
    expect(output.ropeDeltas).toEqual([textOnly.rope_deltas - offset, image.rope_deltas]);
    expect(logits[0]![0]!.length).toBe(vocab);
    // Decode both rows greedily together; each must follow its own fixture.
    let cache = output.cache!;
    let next = [argmax(logits[0]!.at(-1)!), argmax(logits[1]!.at(-1)!)];
    tf.dispose([output.hiddenStates, output.logits!]);
    const produced: number[][] = [[next[0]!], [next[1]!]];
    for (let step = 1; step < 4; step++) {
      const decoded = model.forward({ inputIds: next.map((id) => [id]) }, { logits: "last", cache });
      const rows = decoded.logits!.arraySync() as number[][];
      expect(maxAbsDiff(rows[0]!, textOnly.greedy_step_logits[step]!)).toBeLessThan(1e-5);
      expect(maxAbsDiff(rows[1]!, image.greedy_step_logits[step]!)).toBeLessThan(1e-5);
      next = rows.map(argmax);
      for (const [row, id] of next.entries()) produced[row]!.push(id);
      disposeQwen25VLCache(cache);
      tf.dispose([decoded.hiddenStates, decoded.logits!]);
      cache = decoded.cache!;
    }
    expect(produced[0]).toEqual(textOnly.greedy_new_ids.slice(0, 4));
    expect(produced[1]).toEqual(image.greedy_new_ids.slice(0, 4));
    disposeQwen25VLCache(cache);
  });

  it("selecting cache rows lets several samples share one prefill", ({ skip }) => {
    if (!available) skip();
    const prefill = model.forward({ inputIds: [textOnly.inputs.input_ids] }, { logits: "last", cache: true });
    const shared = selectQwen25VLCacheRows(prefill.cache!, [0, 0, 0]);
    const first = argmax(prefill.logits!.dataSync());
    const step = model.forward({ inputIds: [[first], [first], [first]] }, { logits: "last", cache: shared });
    const rows = step.logits!.arraySync() as number[][];
    for (const row of rows) expect(maxAbsDiff(row, textOnly.greedy_step_logits[1]!)).toBeLessThan(1e-5);
    expect(() => selectQwen25VLCacheRows(prefill.cache!, [1])).toThrow(RangeError);
    for (const cache of [prefill.cache!, shared, step.cache!]) disposeQwen25VLCache(cache);
    tf.dispose([prefill.hiddenStates, prefill.logits!, step.hiddenStates, step.logits!]);
  });
});
