import { initBackend, testBackends } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { advantageEstimatorRegistry, grpo } from "../src/index.js";
import { disposeInput, lossAndGradient, randomBatch, toTensors } from "./support/inputs.js";
import { finiteDifferenceGradient, type Matrix, type ReferenceInput } from "./support/reference.js";

/**
 * The estimators and losses users ask for, each against an independent float64 re-derivation
 * written here from its paper's formula (nothing imported from src), with central finite
 * differences of that re-derivation for the gradients.
 */
const context = { step: 0, totalSteps: 1 };
const sum = (values: ReadonlyArray<number>) => values.reduce((a, b) => a + b, 0);
const avg = (values: ReadonlyArray<number>) => sum(values) / values.length;
const std = (values: ReadonlyArray<number>) =>
  Math.sqrt(sum(values.map((v) => (v - avg(values)) ** 2)) / (values.length - 1));
const groupsOf = (values: ReadonlyArray<number>, size: number) =>
  Array.from({ length: values.length / size }, (_, g) => values.slice(g * size, (g + 1) * size));

// ── estimators (float64) ──
const expectedRloo = (rewards: ReadonlyArray<number>, size: number) =>
  groupsOf(rewards, size).flatMap((group) => group.map((r) => (size / (size - 1)) * (r - avg(group))));
const expectedReinforcePlusPlus = (rewards: ReadonlyArray<number>) =>
  rewards.map((r) => (r - avg(rewards)) / (std(rewards) + 1e-8));
const expectedReinforcePlusPlusBaseline = (rewards: ReadonlyArray<number>, size: number) => {
  const centred = groupsOf(rewards, size).flatMap((group) => group.map((r) => r - avg(group)));
  return centred.map((c) => (c - avg(centred)) / (std(centred) + 1e-8));
};
const expectedPassK = (rewards: ReadonlyArray<number>, size: number) =>
  groupsOf(rewards, size).flatMap((group) => {
    const order = group.map((r, i) => [r, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const [best, second] = [order[0]!, order[1]!];
    return group.map((_, i) => (i === best[1] ? (best[0] - second[0]) / (std(group) + 1e-6) : 0));
  });

const batch = {
  rewards: [1, 0, 0.5, 1.5, 0, 0, 2, 1, 0.25, 0.25, 0.25, 1],
  correct: [true, false, true, true, false, false, true, true, false, false, false, true],
  lengths: [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
  groupSize: 4,
};

describe("advantage estimators against their float64 formulas", () => {
  it.each([
    ["rloo", expectedRloo(batch.rewards, 4)],
    ["reinforcePlusPlus", expectedReinforcePlusPlus(batch.rewards)],
    ["reinforcePlusPlusBaseline", expectedReinforcePlusPlusBaseline(batch.rewards, 4)],
    ["grpoPassK", expectedPassK(batch.rewards, 4)],
  ] as const)("%s", (name, expected) => {
    const { advantage } = advantageEstimatorRegistry.create(name)(batch);
    advantage.forEach((value, index) => {
      expect(Math.abs(value - expected[index]!)).toBeLessThan(1e-12);
    });
    // Through an objective's composition, as a config would select it.
    const composed = grpo({ advantageEstimator: { name } }).advantages(batch, context);
    expect(composed.perSample.advantage).toEqual(advantage);
  });

  it("rloo and pass@k refuse groups of one, naming groupSize", () => {
    for (const name of ["rloo", "grpoPassK"])
      expect(() => advantageEstimatorRegistry.create(name)({ ...batch, groupSize: 1 })).toThrow(/groupSize/);
  });
});

// ── losses (float64) ──
type TokenLoss = (logp: number, old: number, advantage: number) => number;
const cispoToken: TokenLoss = (logp, old, a) => {
  // sg(clip(ρ, 0, 1.28)) · A · logp: the weight is a constant for the derivative.
  return -Math.min(Math.max(Math.exp(logp - old), 0), 1.28) * a * logp;
};
const cispoGradient = (logp: number, old: number, a: number) => -Math.min(Math.exp(logp - old), 1.28) * a;
const dualClipToken: TokenLoss = (logp, old, a) => {
  const ratio = Math.exp(logp - old);
  const surrogate = Math.max(-ratio * a, -Math.min(Math.max(ratio, 0.8), 1.2) * a);
  return a < 0 ? Math.min(surrogate, -3 * a) : surrogate;
};
const sapoToken: TokenLoss = (logp, old, a) => {
  const tau = a > 0 ? 1 : 1.05;
  return (-(4 / tau) * a) / (1 + Math.exp(-tau * (Math.exp(logp - old) - 1)));
};

/** Token-mean of a per-token loss over the batch (float64). */
const tokenMean = (input: ReferenceInput, advantages: ReadonlyArray<number>, token: TokenLoss) => {
  let total = 0;
  let count = 0;
  input.mask.forEach((row, s) => {
    row.forEach((m, t) => {
      if (m > 0) {
        total += token(input.logp[s]![t]!, input.logpOld[s]![t]!, advantages[s]!);
        count += 1;
      }
    });
  });
  return total / count;
};

/** GMPO (float64): −A·exp(mean_t sign-aware clipped log-ratio), then the mean over sequences. */
const gmpoLoss = (input: ReferenceInput, advantages: ReadonlyArray<number>) =>
  avg(
    input.mask.map((row, s) => {
      const a = advantages[s]!;
      const sign = Math.sign(a);
      const chosen = row.flatMap((m, t) => {
        if (m === 0) return [];
        const l = input.logp[s]![t]! - input.logpOld[s]![t]!;
        return [sign * Math.min(sign * l, sign * Math.min(Math.max(l, -0.4), 0.4))];
      });
      return -a * Math.exp(avg(chosen));
    }),
  );

const grpoAdvantages = (input: ReferenceInput) =>
  groupsOf(input.rewards, input.groupSize).flatMap((group) =>
    group.every((r) => r === group[0])
      ? group.map(() => 0)
      : group.map((r) => (r - avg(group)) / (std(group) + 1e-9)),
  );

const maxAbsDifference = (a: Matrix, b: Matrix) =>
  Math.max(...a.flatMap((row, i) => row.map((value, t) => Math.abs(value - b[i]![t]!))));

/** Log-ratios spread wide enough that some tokens clip (kinks avoided by the generator's margin). */
const wideBatch = (seed: number): ReferenceInput => {
  const input = randomBatch(seed, { groups: 3, groupSize: 4, tokens: 5 }, [
    0.8,
    1.2,
    1.28,
    Math.exp(0.4),
    Math.exp(-0.4),
  ]);
  return {
    ...input,
    logp: input.logp.map((row, s) =>
      row.map((v, t) => v + 0.3 * (input.logp[s]![t]! - input.logpOld[s]![t]!)),
    ),
  };
};

describe.each(await testBackends())("policy losses against their float64 formulas on %s", (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  const cases = [
    {
      name: "cispo",
      aggregation: "token-mean" as const,
      reference: (input: ReferenceInput) => tokenMean(input, grpoAdvantages(input), cispoToken),
      // The weight is not differentiated: the analytic gradient is −clip(ρ)·A / tokens.
      analytic: (input: ReferenceInput) => {
        const advantages = grpoAdvantages(input);
        const count = sum(input.mask.flat());
        return input.mask.map((row, s) =>
          row.map((m, t) =>
            m > 0 ? cispoGradient(input.logp[s]![t]!, input.logpOld[s]![t]!, advantages[s]!) / count : 0,
          ),
        );
      },
    },
    {
      name: "dualClipPpo",
      aggregation: "token-mean" as const,
      reference: (input: ReferenceInput) => tokenMean(input, grpoAdvantages(input), dualClipToken),
    },
    {
      name: "sapo",
      aggregation: "token-mean" as const,
      reference: (input: ReferenceInput) => tokenMean(input, grpoAdvantages(input), sapoToken),
    },
    {
      name: "gmpo",
      aggregation: "seq-mean-token-mean" as const,
      reference: (input: ReferenceInput) => gmpoLoss(input, grpoAdvantages(input)),
    },
  ];

  it.each(cases)(
    "$name: loss and gradient (≤ 1e-6 / finite differences)",
    async ({ name, aggregation, reference, analytic }) => {
      const objective = grpo({ beta: 0, aggregation, policyLoss: { name } });
      for (const seed of [3, 4]) {
        const input = wideBatch(seed);
        const before = tf.memory().numTensors;
        const tensors = toTensors(input);
        const { value, gradient } = await lossAndGradient((x) => objective.loss(x, context), tensors);
        disposeInput(tensors);
        expect(tf.memory().numTensors).toBe(before);
        const expected = reference(input);
        expect(Math.abs(value - expected)).toBeLessThan(1e-6 * Math.max(1, Math.abs(expected)));
        const expectedGradient =
          analytic?.(input) ?? finiteDifferenceGradient(input.logp, (logp) => reference({ ...input, logp }));
        expect(maxAbsDifference(gradient, expectedGradient)).toBeLessThan(1e-6 * 20);
        expect(Math.max(...expectedGradient.flat().map(Math.abs))).toBeGreaterThan(1e-3);
      }
    },
  );

  it("cispo's gradient is its analytic form, which finite differences of the undetached loss are not", () => {
    const input = wideBatch(5);
    const numeric = finiteDifferenceGradient(input.logp, (logp) =>
      tokenMean({ ...input, logp }, grpoAdvantages(input), cispoToken),
    );
    const advantages = grpoAdvantages(input);
    const count = sum(input.mask.flat());
    const analytic = input.mask.map((row, s) =>
      row.map((m, t) =>
        m > 0 ? cispoGradient(input.logp[s]![t]!, input.logpOld[s]![t]!, advantages[s]!) / count : 0,
      ),
    );
    // The stop-gradient matters: differentiating through the weight gives another gradient.
    expect(maxAbsDifference(numeric, analytic)).toBeGreaterThan(1e-4);
  });

  it("dual clip caps the loss of a negative advantage with a huge ratio", async () => {
    const objective = grpo({ beta: 0, policyLoss: { name: "dualClipPpo" } });
    const plain = grpo({ beta: 0 });
    const input: ReferenceInput = {
      logp: [[0], [3]],
      logpOld: [[0], [0]],
      mask: [[1], [1]],
      rewards: [1, 0],
      correct: [true, false],
      // Two losses over the same tensors: on a GPU backend the mask is on the device after the first.
      lengths: [1, 1],
      groupSize: 2,
    };
    const tensors = toTensors(input);
    const capped = objective.loss(tensors, context);
    const uncapped = plain.loss(tensors, context);
    const a = Math.SQRT1_2;
    // Row 2: A = −a, ρ = e³: PPO gives e³·a, dual clip caps it at 3a.
    expect((await capped.loss.data())[0]).toBeCloseTo((-a + 3 * a) / 2, 6);
    expect((await uncapped.loss.data())[0]).toBeCloseTo((-a + Math.exp(3) * a) / 2, 5);
    tf.dispose([capped.loss, uncapped.loss]);
    disposeInput(tensors);
  });
});
