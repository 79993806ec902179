import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { disposeLayout, segmentAttention, segmentLayout } from "../../src/internal/model/segmentAttention.js";
import { testBackendNames, useBackend } from "./support/backend.js";
import { maxAbsDiff } from "./support/fixtures.js";

const [n, heads, dim] = [11, 2, 4];
const values = (seed: number) =>
  Array.from({ length: n * heads * dim }, (_, i) => Math.sin(seed * 7.1 + i * 1.3));

/** Float64 block-diagonal attention, written out loop by loop. */
const reference = (q: number[], k: number[], v: number[], cu: number[]): number[] => {
  const out = new Array<number>(n * heads * dim).fill(0);
  const at = (x: number[], token: number, head: number, d: number) => x[(token * heads + head) * dim + d]!;
  for (let segment = 0; segment + 1 < cu.length; segment++) {
    for (let head = 0; head < heads; head++) {
      for (let i = cu[segment]!; i < cu[segment + 1]!; i++) {
        const scores: number[] = [];
        for (let j = cu[segment]!; j < cu[segment + 1]!; j++) {
          let dot = 0;
          for (let d = 0; d < dim; d++) dot += at(q, i, head, d) * at(k, j, head, d);
          scores.push(dot / Math.sqrt(dim));
        }
        const max = Math.max(...scores);
        const weights = scores.map((score) => Math.exp(score - max));
        const total = weights.reduce((a, b) => a + b, 0);
        for (let d = 0; d < dim; d++) {
          out[(i * heads + head) * dim + d] = weights.reduce(
            (sum, w, index) => sum + (w / total) * at(v, cu[segment]! + index, head, d),
            0,
          );
        }
      }
    }
  }
  return out;
};

describe.each(testBackendNames)("block-diagonal segment attention (%s)", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it.each([
    ["unequal segments (key mask)", [0, 4, 6, 11]],
    ["one segment", [0, 11]],
  ])("matches a float64 reference for %s, whole and in query chunks", (_, cu) => {
    const [qv, kv, vv] = [values(1), values(2), values(3)];
    const expected = reference(qv, kv, vv, cu);
    const before = tf.memory().numTensors;
    const layout = segmentLayout(cu);
    const [q, k, v] = [qv, kv, vv].map((x) => tf.tensor3d(x, [n, heads, dim]));
    for (const budget of [1 << 24, 7]) {
      const out = segmentAttention(q!, k!, v!, layout, budget);
      expect(out.shape).toEqual([n, heads * dim]);
      expect(maxAbsDiff(out.dataSync(), expected)).toBeLessThan(1e-6);
      out.dispose();
    }
    tf.dispose([q!, k!, v!]);
    disposeLayout(layout);
    expect(tf.memory().numTensors).toBe(before);
  });
});
