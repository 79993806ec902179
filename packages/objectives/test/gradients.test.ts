import type { ObjectiveInput, ObjectiveV2 } from "@apo-rl/core";
import { initBackend, testBackends } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { apo, dapo, drGrpo, grpo, grpoD } from "../src/index.js";
import { disposeInput, lossAndGradient, lossWithMetrics, randomBatch, toTensors } from "./support/inputs.js";
import {
  finiteDifferenceGradient,
  grpoReference,
  type Matrix,
  type ReferenceInput,
  referenceLoss,
} from "./support/reference.js";

interface Case {
  readonly label: string;
  readonly objective: () => ObjectiveV2<tf.Tensor>;
  /** The float64 loss of the same objective as a function of `logp`. */
  readonly reference: (input: ReferenceInput) => number;
  readonly batch?: (input: ReferenceInput) => ReferenceInput;
}

const context = { step: 30, totalSteps: 100 };
const family = (
  label: string,
  objective: () => ObjectiveV2<tf.Tensor>,
  config: Partial<typeof grpoReference>,
) => ({
  label,
  objective,
  reference: (input: ReferenceInput) => referenceLoss(input, { ...grpoReference, ...config }).loss,
});
const withLengths = (input: ReferenceInput) => ({
  ...input,
  lengths: input.mask.map((row, i) => row.reduce((a, b) => a + b, 0) * 40 + 7 * i),
});

const cases: ReadonlyArray<Case> = [
  family("grpo (reference defaults)", () => grpo(), {}),
  family(
    "grpo seq-mean-token-mean, k2, eps 1e-4",
    () => grpo({ aggregation: "seq-mean-token-mean", klEstimator: "k2", eps: 1e-4 }),
    {
      aggregation: "seq-mean-token-mean",
      estimator: "k2",
      eps: 1e-4,
    },
  ),
  family(
    "grpo seq-mean-token-sum, low-var-kl, batch scale",
    () =>
      grpo({
        aggregation: "seq-mean-token-sum",
        klEstimator: "low-var-kl",
        advantageScale: "batch",
        beta: 0.05,
      }),
    {
      aggregation: "seq-mean-token-sum",
      estimator: "low-var-kl",
      scale: "batch",
      beta: 0.05,
    },
  ),
  family("grpo KL in the reward (k1)", () => grpo({ klPlacement: "reward", beta: 0.1 }), {
    placement: "reward",
    beta: 0.1,
  }),
  family("grpo k1 in the loss", () => grpo({ klEstimator: "k1", beta: 0.1 }), { estimator: "k1", beta: 0.1 }),
  family("drGrpo (defaults)", () => drGrpo(), { scale: "none", aggregation: "seq-mean-token-sum-norm" }),
  family("drGrpo maxLength 16", () => drGrpo({ maxLength: 16 }), {
    scale: "none",
    aggregation: "seq-mean-token-sum-norm",
    maxLength: 16,
  }),
  family("dapo (defaults)", () => dapo(), { clipHigh: 0.28, beta: 0 }),
  family("dapo overlong shaping", () => dapo({ overlong: { maxLength: 5, buffer: 3 } }), {
    clipHigh: 0.28,
    beta: 0,
    overlong: { maxLength: 5, buffer: 3 },
  }),
  family("grpoD at step 30/100 (β = 0.3e-3)", () => grpoD(), { beta: 0.3e-3 }),
  family("grpoD cosine", () => grpoD({ klSchedule: { kind: "cosine", betaMax: 0.2, warmupFraction: 0.6 } }), {
    beta: (0.2 * (1 - Math.cos(Math.PI * 0.5))) / 2,
  }),
  family("apo (defaults)", () => apo(), { dads: "reference", stcrBase: 1.00001 }),
  {
    ...family(
      "apo exp-decay DADS, strong STCR, β 0.05",
      () => apo({ dadsForm: "exp-decay", stcrBase: 1.01, beta: 0.05 }),
      { dads: "exp-decay", stcrBase: 1.01, beta: 0.05 },
    ),
    batch: withLengths,
  },
  family("apo KL in the reward", () => apo({ klPlacement: "reward", beta: 0.1 }), {
    dads: "reference",
    stcrBase: 1.00001,
    placement: "reward",
    beta: 0.1,
  }),
  {
    ...family(
      "apo KL in the reward, strong STCR",
      () => apo({ klPlacement: "reward", beta: 0.5, stcrBase: 1.01 }),
      {
        dads: "reference",
        stcrBase: 1.01,
        placement: "reward",
        beta: 0.5,
      },
    ),
    batch: withLengths,
  },
];

const maxAbsDifference = (a: Matrix, b: Matrix) =>
  Math.max(...a.flatMap((row, i) => row.map((value, t) => Math.abs(value - b[i]![t]!))));

describe.each(await testBackends())("objectives against the float64 re-derivation on %s", (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it.each(cases)(
    "$label: value and gradient (central finite differences)",
    async ({ objective, reference, batch }) => {
      const built = objective();
      for (const seed of [1, 2]) {
        const base = randomBatch(seed, { groups: 3, groupSize: 4, tokens: 5 });
        const input = batch === undefined ? base : batch(base);
        const before = tf.memory().numTensors;
        const tensors = toTensors(input);
        const { value, gradient } = await lossAndGradient(
          (tensorInput) => built.loss(tensorInput, context),
          tensors,
        );
        disposeInput(tensors);
        expect(tf.memory().numTensors).toBe(before);
        const expected = reference(input);
        expect(Math.abs(value - expected)).toBeLessThan(1e-6 * Math.max(1, Math.abs(expected)));
        const numeric = finiteDifferenceGradient(input.logp, (logp) => reference({ ...input, logp }));
        expect(maxAbsDifference(gradient, numeric)).toBeLessThan(2e-5);
        // The gradient is not trivially zero: the check has something to compare.
        expect(Math.max(...numeric.flat().map(Math.abs))).toBeGreaterThan(1e-3);
      }
    },
  );

  it("reports metrics that match the float64 re-derivation", async () => {
    const batch = randomBatch(11, { groups: 3, groupSize: 4, tokens: 5 });
    // Wrong answers are longer than right ones, so that STCR penalises every wrong answer of a mixed group.
    const input = { ...batch, lengths: batch.correct.map((flag, i) => (flag ? 50 + i : 80 + 10 * i)) };
    const config = { ...grpoReference, dads: "reference" as const, stcrBase: 1.01, beta: 0.05 };
    const expected = referenceLoss(input, config);
    const tensors = toTensors(input);
    const { loss, metrics } = await lossWithMetrics(apo({ stcrBase: 1.01, beta: 0.05 }), tensors, context);
    tf.dispose(loss);
    disposeInput(tensors);
    const positive = expected.advantages.flatMap((a, i) => (a > 0 ? [i] : []));
    const mean = (values: ReadonlyArray<number>) => values.reduce((x, y) => x + y, 0) / values.length;
    expect(metrics["policyLoss"]).toBeCloseTo(expected.policyLoss, 6);
    expect(metrics["klLoss"]).toBeCloseTo(expected.klLoss, 7);
    expect(metrics["loss"]).toBeCloseTo(expected.loss, 6);
    expect(metrics["beta"]).toBe(0.05);
    expect(metrics["advantagePositiveMean"]).toBeCloseTo(
      mean(positive.map((i) => expected.advantages[i]!)),
      9,
    );
    expect(metrics["advantageNegativeMean"]).toBeCloseTo(mean(expected.advantages.filter((a) => a < 0)), 9);
    expect(metrics["dadsWeightPositiveMean"]).toBeCloseTo(mean(positive.map((i) => expected.weights[i]!)), 9);
    expect(metrics["dadsWeightPositiveMean"]).toBeLessThan(1);
    expect(metrics["stcrScalePenalisedMean"]).toBeGreaterThan(1);
    expect(metrics["zeroSpreadGroupFraction"]).toBeCloseTo(1 / 3, 12);
    expect(metrics["rewardMean"]).toBeCloseTo(mean(input.rewards), 12);
    const again = toTensors(input);
    const grpoMetrics = await lossWithMetrics(grpo(), again, context);
    tf.dispose(grpoMetrics.loss);
    disposeInput(again);
    expect(grpoMetrics.metrics["dadsWeightPositiveMean"]).toBe(1);
    expect(grpoMetrics.metrics["stcrScalePenalisedMean"]).toBe(1);
  });

  it("apo with DADS and STCR off is exactly grpo (values, metrics and gradients)", async () => {
    for (const options of [
      {},
      { klPlacement: "reward" as const, beta: 0.1 },
      { aggregation: "seq-mean-token-sum" as const },
    ]) {
      const input = withLengths(randomBatch(7, { groups: 3, groupSize: 4, tokens: 6 }));
      // Fresh tensors for every loss: on a GPU backend `loss` reads the mask only before it is
      // uploaded (these lengths are not the mask's row sums, so they cannot stand in for it).
      const run = async <A>(use: (tensors: ObjectiveInput<tf.Tensor>) => Promise<A>): Promise<A> => {
        const tensors = toTensors(input);
        try {
          return await use(tensors);
        } finally {
          disposeInput(tensors);
        }
      };
      const plain = grpo(options);
      const switchedOff = apo({ ...options, dads: false, stcr: false });
      const a = await run((tensors) => lossAndGradient((x) => plain.loss(x, context), tensors));
      const b = await run((tensors) => lossAndGradient((x) => switchedOff.loss(x, context), tensors));
      expect(b.value).toBe(a.value);
      expect(b.gradient).toEqual(a.gradient);
      const metricsA = await run((tensors) => lossWithMetrics(plain, tensors, context));
      const metricsB = await run((tensors) => lossWithMetrics(switchedOff, tensors, context));
      expect(metricsB.metrics).toEqual(metricsA.metrics);
      tf.dispose([metricsA.loss, metricsB.loss]);
      // And switching them on changes the loss on this batch.
      const on = apo({ ...options, stcrBase: 1.01 });
      const c = await run((tensors) => lossAndGradient((x) => on.loss(x, context), tensors));
      expect(c.value).not.toBe(a.value);
    }
  });
});
