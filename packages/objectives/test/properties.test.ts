import type { ObjectiveV2 } from "@apo-rl/core";
import { initBackend, testBackends } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  apo,
  dadsWeights,
  dapo,
  drGrpo,
  groupAdvantages,
  grpo,
  grpoD,
  gspo,
  stcrScales,
} from "../src/index.js";
import { disposeInput, lossAndGradient, randomBatch, toTensors } from "./support/inputs.js";

const groupsOf = <A>(arbitrary: fc.Arbitrary<A>) =>
  fc
    .record({ groupSize: fc.integer({ min: 1, max: 8 }), groups: fc.integer({ min: 1, max: 5 }) })
    .chain(({ groupSize, groups }) =>
      fc.record({
        groupSize: fc.constant(groupSize),
        values: fc.array(arbitrary, { minLength: groupSize * groups, maxLength: groupSize * groups }),
      }),
    );

describe("properties of the building blocks", () => {
  it("advantages sum to zero within each group, for every scale (up to float64 rounding)", () => {
    const reward = fc.double({ min: -100, max: 100, noNaN: true });
    const std = (values: ReadonlyArray<number>) => {
      const centre = values.reduce((a, b) => a + b, 0) / values.length;
      const squares = values.reduce((sum, value) => sum + (value - centre) ** 2, 0);
      return values.length < 2 ? 0 : Math.sqrt(squares / (values.length - 1));
    };
    fc.assert(
      fc.property(
        groupsOf(reward),
        fc.constantFrom("group", "batch", "none" as const),
        ({ groupSize, values }, scale) => {
          const advantages = groupAdvantages(values, groupSize, { scale });
          for (let start = 0; start < values.length; start += groupSize) {
            const rewards = values.slice(start, start + groupSize);
            const divisor =
              scale === "group" ? std(rewards) + 1e-9 : scale === "batch" ? std(values) + 1e-9 : 1;
            // Centring n rewards rounds each by at most a few ulps of the largest one.
            const rounding =
              (groupSize * (8 * Number.EPSILON * Math.max(...rewards.map(Math.abs)) + Number.MIN_VALUE)) /
              divisor;
            const total = advantages.slice(start, start + groupSize).reduce((a, b) => a + b, 0);
            expect(Math.abs(total)).toBeLessThanOrEqual(rounding);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("DADS weights lie in (0, 1] and are 1 for samples without a positive advantage", () => {
    const sample = fc.record({
      correct: fc.boolean(),
      advantage: fc.double({ min: -5, max: 5, noNaN: true }),
    });
    fc.assert(
      fc.property(
        groupsOf(sample),
        fc.constantFrom("reference", "exp-decay" as const),
        ({ groupSize, values }, form) => {
          const weights = dadsWeights(
            values.map((value) => value.correct),
            values.map((value) => value.advantage),
            groupSize,
            { form },
          );
          weights.forEach((weight, index) => {
            expect(weight).toBeGreaterThan(0);
            expect(weight).toBeLessThanOrEqual(1);
            if (!(values[index]!.advantage > 0)) expect(weight).toBe(1);
          });
        },
      ),
    );
  });

  it("STCR scales lie in [1, 2) and are 1 for correct responses", () => {
    const sample = fc.record({ correct: fc.boolean(), length: fc.integer({ min: 0, max: 1_000_000 }) });
    const base = fc.double({ min: 1.000001, max: 3, noNaN: true });
    fc.assert(
      fc.property(groupsOf(sample), base, ({ groupSize, values }, stcrBase) => {
        const scales = stcrScales(
          values.map((value) => value.correct),
          values.map((value) => value.length),
          groupSize,
          { base: stcrBase },
        );
        scales.forEach((scale, index) => {
          expect(scale).toBeGreaterThanOrEqual(1);
          expect(scale).toBeLessThan(2);
          if (values[index]!.correct) expect(scale).toBe(1);
        });
      }),
    );
  });
});

const context = { step: 40, totalSteps: 100 };
/** Every objective with its KL switched off, so that only the policy gradient remains. */
const withoutKl: ReadonlyArray<readonly [string, () => ObjectiveV2<tf.Tensor>]> = [
  ["grpo", () => grpo({ beta: 0 })],
  ["drGrpo", () => drGrpo({ beta: 0 })],
  ["dapo", () => dapo()],
  ["grpoD", () => grpoD({ klSchedule: { betaMax: 0 } })],
  ["apo", () => apo({ beta: 0, stcrBase: 1.01 })],
  ["gspo", () => gspo({ clipLow: 0.2, clipHigh: 0.2 })],
];
/** Every objective with a KL term, to check that padding never matters. */
const withKl: ReadonlyArray<readonly [string, () => ObjectiveV2<tf.Tensor>]> = [
  ["grpo", () => grpo({ beta: 0.1 })],
  ["grpo (KL in reward)", () => grpo({ beta: 0.1, klPlacement: "reward" })],
  ["drGrpo", () => drGrpo({ beta: 0.1 })],
  ["dapo", () => dapo({ beta: 0.1, aggregation: "seq-mean-token-mean" })],
  ["grpoD", () => grpoD()],
  ["apo", () => apo({ beta: 0.1 })],
  ["gspo", () => gspo({ beta: 0.1 })],
];

describe.each(await testBackends())("properties of the objectives on %s", (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it.each(withoutKl)(
    "%s: a group whose rewards are all equal contributes no policy gradient",
    async (_, objective) => {
      const built = objective();
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 1_000_000 }),
          fc.double({ min: -2, max: 2, noNaN: true }),
          async (seed, reward) => {
            const input = randomBatch(seed, { groups: 3, groupSize: 3, tokens: 4 });
            const uniform = 1;
            const rewards = input.rewards.map((value, i) => (Math.floor(i / 3) === uniform ? reward : value));
            const tensors = toTensors({ ...input, rewards });
            const before = tf.memory().numTensors;
            const { gradient } = await lossAndGradient((x) => built.loss(x, context), tensors);
            expect(tf.memory().numTensors).toBe(before);
            disposeInput(tensors);
            for (const row of gradient.slice(3, 6)) for (const value of row) expect(value).toBe(0);
          },
        ),
        { numRuns: 10 },
      );
    },
  );

  it.each(withKl)("%s: masked-out tokens never change the loss or receive gradient", async (_, objective) => {
    const built = objective();
    const garbage = fc.oneof(
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc.constantFrom(Number.NEGATIVE_INFINITY, Number.NaN, Number.POSITIVE_INFINITY),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(garbage, { minLength: 3, maxLength: 3 }),
        async (seed, [a, b, c]) => {
          const input = randomBatch(seed, { groups: 2, groupSize: 3, tokens: 5 });
          const fill = (matrix: ReadonlyArray<ReadonlyArray<number>>, value: number) =>
            matrix.map((row, i) => row.map((entry, t) => (input.mask[i]![t]! > 0 ? entry : value)));
          const clean = toTensors({
            ...input,
            logp: fill(input.logp, 0),
            logpOld: fill(input.logpOld, 0),
            logpRef: fill(input.logpRef!, 0),
          });
          const dirty = toTensors({
            ...input,
            logp: fill(input.logp, a!),
            logpOld: fill(input.logpOld, b!),
            logpRef: fill(input.logpRef!, c!),
          });
          const reference = await lossAndGradient((x) => built.loss(x, context), clean);
          const padded = await lossAndGradient((x) => built.loss(x, context), dirty);
          disposeInput(clean);
          disposeInput(dirty);
          expect(padded.value).toBe(reference.value);
          expect(Number.isFinite(padded.value)).toBe(true);
          for (const [i, row] of padded.gradient.entries())
            for (const [t, value] of row.entries())
              expect(value).toBe(input.mask[i]![t]! === 0 ? 0 : reference.gradient[i]![t]!);
        },
      ),
      { numRuns: 10 },
    );
  });
});
