import type { ObjectiveOutput } from "@apo-rl/core";
import { initBackend, testBackends } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { grpo } from "../src/objectives/grpo.js";
import { type RolloutCorrectionOptions, rolloutCorrectionWeights } from "../src/rolloutCorrection.js";
import { disposeInput, lossWithMetrics, random, randomBatch, toTensors } from "./support/inputs.js";
import { grpoReference, type Matrix, referenceSamples } from "./support/reference.js";

/**
 * Float64 re-derivation of the rollout correction, straight from its definition: ρ_t =
 * exp(logp_t − logp_rollout_t) per token, or ρ = exp(Σ_t (logp_t − logp_rollout_t)) per sequence;
 * TIS weight min(ρ, cap); MIS weight ρ when ρ ≤ cap, else 0; off: 1. Statistics over response tokens
 * (token level) or over sequences (sequence level).
 */
const referenceCorrection = (
  logp: Matrix,
  rollout: Matrix,
  mask: Matrix,
  options: RolloutCorrectionOptions,
) => {
  const ratios: number[] = [];
  const weights = logp.map((row, s) => {
    const logRatios = row.map((value, t) => (mask[s]![t]! > 0 ? value - rollout[s]![t]! : 0));
    const sequenceRatio = Math.exp(logRatios.reduce((sum, value) => sum + value, 0));
    if (options.level === "sequence") ratios.push(sequenceRatio);
    return row.map((_, t) => {
      if (mask[s]![t]! === 0) return 0;
      const ratio = options.level === "sequence" ? sequenceRatio : Math.exp(logRatios[t]!);
      if (options.level === "token") ratios.push(ratio);
      if (options.mode === "off") return 1;
      if (options.mode === "tis") return Math.min(ratio, options.cap);
      return ratio <= options.cap ? ratio : 0;
    });
  });
  return {
    weights,
    ratioMean: ratios.reduce((sum, value) => sum + value, 0) / ratios.length,
    ratioMax: Math.max(...ratios),
    maskedFraction: ratios.filter((ratio) => ratio > options.cap).length / ratios.length,
  };
};

/** Rollout log-probs perturbed from the trained policy's: engine noise, a few tokens far off. */
const perturbed = (logp: Matrix, seed: number): Matrix => {
  const next = random(seed);
  return logp.map((row) =>
    row.map((value) => {
      const far = next() < 0.2;
      return value + (far ? (next() < 0.5 ? -1.5 : 1.5) * (0.5 + next()) : 0.3 * next() - 0.15);
    }),
  );
};

const modes: ReadonlyArray<RolloutCorrectionOptions> = [
  { mode: "tis", level: "token", cap: 2 },
  { mode: "tis", level: "sequence", cap: 2 },
  { mode: "mis", level: "token", cap: 1.5 },
  { mode: "mis", level: "sequence", cap: 3 },
  { mode: "off", level: "token", cap: 2 },
];

const close = (actual: ArrayLike<number>, expected: ReadonlyArray<number>, tolerance: number) => {
  expect(actual.length).toBe(expected.length);
  for (let index = 0; index < expected.length; index++)
    expect(Math.abs(actual[index]! - expected[index]!), `at ${index}`).toBeLessThan(
      tolerance * Math.max(1, Math.abs(expected[index]!)),
    );
};

describe.each(await testBackends())("rollout correction against a float64 re-derivation on %s", (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it.each(modes)("weights and metrics: $mode at $level level, cap $cap", async (options) => {
    for (const seed of [1, 2, 3]) {
      const batch = randomBatch(seed, { groups: 3, groupSize: 4, tokens: 6 });
      const rollout = perturbed(batch.logp, seed + 10);
      const expected = referenceCorrection(batch.logp, rollout, batch.mask, options);
      const before = tf.memory().numTensors;
      const logp = tf.tensor2d(batch.logp as number[][]);
      const logpRollout = tf.tensor2d(rollout as number[][]);
      const mask = tf.tensor2d(batch.mask as number[][]);
      const correction = rolloutCorrectionWeights(logp, logpRollout, mask, options);
      close(await correction.weights.data(), expected.weights.flat(), 1e-5);
      close(await correction.ratioMean.data(), [expected.ratioMean], 1e-5);
      close(await correction.ratioMax.data(), [expected.ratioMax], 1e-5);
      close(await correction.maskedFraction.data(), [expected.maskedFraction], 1e-6);
      tf.dispose([
        logp,
        logpRollout,
        mask,
        correction.weights,
        correction.ratioMean,
        correction.ratioMax,
        correction.maskedFraction,
      ]);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it("the perturbation exercises the cap: some ratios are truncated, some are not", () => {
    const batch = randomBatch(1, { groups: 3, groupSize: 4, tokens: 6 });
    const expected = referenceCorrection(batch.logp, perturbed(batch.logp, 11), batch.mask, modes[0]!);
    expect(expected.maskedFraction).toBeGreaterThan(0);
    expect(expected.maskedFraction).toBeLessThan(0.5);
  });

  it.each(modes.filter((options) => options.mode !== "off"))(
    "grpo with rolloutCorrection $mode/$level: loss and gradient are −Σ m·A·w / Σ m (ratio against the trained policy)",
    async (options) => {
      const objective = grpo({ beta: 0, rolloutCorrection: options });
      expect(objective.metricNames).toContain("rolloutMaskedFraction");
      for (const seed of [4, 5]) {
        const batch = randomBatch(seed, { groups: 3, groupSize: 4, tokens: 6 });
        const rollout = perturbed(batch.logp, seed + 20);
        const correction = referenceCorrection(batch.logp, rollout, batch.mask, options);
        const { advantages } = referenceSamples(batch, { ...grpoReference, beta: 0 });
        const tokens = batch.mask.flat().reduce((sum, value) => sum + value, 0);
        const gradient = batch.mask.map((row, s) =>
          row.map((m, t) => (-m * advantages[s]! * correction.weights[s]![t]!) / tokens),
        );
        const value = gradient.flat().reduce((sum, entry) => sum + entry, 0);
        const before = tf.memory().numTensors;
        const input = toTensors({ ...batch, logpOld: rollout });
        let output: ObjectiveOutput<tf.Tensor> | undefined;
        const { value: loss, grad } = tf.valueAndGrad((logp: tf.Tensor) => {
          output = objective.loss({ ...input, logp }, { step: 0, totalSteps: 1 });
          return output.loss as tf.Scalar;
        })(input.logp);
        // A GPU backend reports the tensor metrics through `deviceMetrics` (no synchronous read).
        const metrics = { ...output!.metrics, ...(await output!.deviceMetrics) };
        close(await loss.data(), [value], 1e-5);
        close(await grad.data(), gradient.flat(), 1e-5);
        close(
          [metrics["rolloutRatioMean"]!, metrics["rolloutRatioMax"]!, metrics["rolloutMaskedFraction"]!],
          [correction.ratioMean, correction.ratioMax, correction.maskedFraction],
          1e-5,
        );
        expect(metrics["clipFraction"]).toBe(0);
        tf.dispose([loss, grad]);
        disposeInput(input);
        expect(tf.memory().numTensors).toBe(before);
      }
    },
  );

  it("mode off reports the ratios and leaves the loss as without the option", async () => {
    const batch = randomBatch(6, { groups: 3, groupSize: 4, tokens: 6 });
    // Fresh tensors for each loss: on a GPU backend `loss` reads the mask only before it is uploaded.
    const first = toTensors({ ...batch, logpOld: perturbed(batch.logp, 26) });
    const second = toTensors({ ...batch, logpOld: perturbed(batch.logp, 26) });
    const plain = await lossWithMetrics(grpo({ beta: 0 }), first, { step: 0, totalSteps: 1 });
    const off = await lossWithMetrics(grpo({ beta: 0, rolloutCorrection: { mode: "off" } }), second, {
      step: 0,
      totalSteps: 1,
    });
    close(await off.loss.data(), [(await plain.loss.data())[0]!], 1e-7);
    expect(off.metrics["rolloutRatioMax"]).toBeGreaterThan(1);
    expect(plain.metrics["rolloutRatioMax"]).toBeUndefined();
    tf.dispose([plain.loss, off.loss]);
    disposeInput(first);
    disposeInput(second);
  });
});

it("rolloutCorrection options are validated (cap > 1, known mode)", () => {
  expect(() => grpo({ rolloutCorrection: { mode: "tis", cap: 0.5 } })).toThrow(/cap/);
  expect(() => grpo({ rolloutCorrection: { mode: "clip" as never } })).toThrow(/mode/);
});
