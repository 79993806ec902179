import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { AdamW } from "../src/AdamW.js";
import { clipByGlobalNorm, globalGradientNorm } from "../src/gradientClipping.js";
import { learningRateAt } from "../src/learningRate.js";
import { testBackends, useBackend } from "./support/backends.js";

/** AdamW in float64 plain JS, straight from the paper's algorithm with PyTorch's decoupled decay. */
const adamWReference = (
  initial: ReadonlyArray<number>,
  gradients: ReadonlyArray<ReadonlyArray<number>>,
  rates: ReadonlyArray<number>,
  options: { beta1: number; beta2: number; eps: number; weightDecay: number },
): number[] => {
  const theta = [...initial];
  const m = theta.map(() => 0);
  const v = theta.map(() => 0);
  gradients.forEach((gradient, index) => {
    const t = index + 1;
    const lr = rates[index]!;
    for (let i = 0; i < theta.length; i++) {
      const g = gradient[i]!;
      m[i] = options.beta1 * m[i]! + (1 - options.beta1) * g;
      v[i] = options.beta2 * v[i]! + (1 - options.beta2) * g * g;
      const mHat = m[i]! / (1 - options.beta1 ** t);
      const vHat = v[i]! / (1 - options.beta2 ** t);
      theta[i] =
        theta[i]! - lr * options.weightDecay * theta[i]! - (lr * mHat) / (Math.sqrt(vHat) + options.eps);
    }
  });
  return theta;
};

const initial = [0.5, -1.25, 2, 0.03, -0.7, 1.1];
const gradientSequence = [
  [0.1, -0.2, 0.3, -0.4, 0.05, 0],
  [0.2, 0.1, -0.1, 0.4, -0.05, 0.01],
  [-0.3, 0.05, 0.2, 0.1, 0.5, -0.02],
  [0.01, -0.6, 0.2, -0.1, 0.3, 0.2],
];
const rates = [1e-2, 2e-2, 1.5e-2, 5e-3];
const options = { betas: [0.9, 0.95] as const, eps: 1e-8, weightDecay: 0.1 };

for (const backend of testBackends) {
  describe(`optimizer on ${backend}`, () => {
    it("AdamW matches a float64 re-derivation step by step", async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const parameterA = tf.tidy(() =>
        tf.variable(tf.tensor2d(initial.slice(0, 4), [2, 2]), true, `a-${backend}`),
      );
      const parameterB = tf.tidy(() => tf.variable(tf.tensor1d(initial.slice(4)), true, `b-${backend}`));
      const optimizer = new AdamW([parameterA, parameterB], options);
      gradientSequence.forEach((gradient, index) => {
        const gradients = [tf.tensor2d(gradient.slice(0, 4), [2, 2]), tf.tensor1d(gradient.slice(4))];
        optimizer.update(gradients, rates[index]!);
        tf.dispose(gradients);
        const expected = adamWReference(initial, gradientSequence.slice(0, index + 1), rates, {
          beta1: 0.9,
          beta2: 0.95,
          eps: 1e-8,
          weightDecay: 0.1,
        });
        const actual = [...parameterA.dataSync(), ...parameterB.dataSync()];
        actual.forEach((value, i) => {
          expect(value).toBeCloseTo(expected[i]!, 6);
        });
      });
      expect(optimizer.step).toBe(4);
      optimizer.dispose();
      tf.dispose([parameterA, parameterB]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it("saves and restores its state exactly: 4 updates = 2 + save/load into a fresh optimizer + 2", async () => {
      await useBackend(backend);
      const run = async (split: boolean) => {
        const parameter = tf.variable(tf.tensor1d(initial), true);
        let optimizer = new AdamW([parameter], options);
        for (const [index, gradient] of gradientSequence.entries()) {
          if (split && index === 2) {
            const directory = mkdtempSync(join(tmpdir(), "apo-adamw-"));
            try {
              await optimizer.save(directory);
              optimizer.dispose();
              optimizer = new AdamW([parameter], options);
              await optimizer.load(directory);
            } finally {
              rmSync(directory, { recursive: true, force: true });
            }
            expect(optimizer.step).toBe(2);
          }
          const tensor = tf.tensor1d(gradient);
          optimizer.update([tensor], rates[index]!);
          tensor.dispose();
        }
        const values = Array.from(parameter.dataSync());
        const state = await optimizer.state();
        optimizer.dispose();
        parameter.dispose();
        return { values, state };
      };
      const straight = await run(false);
      const resumed = await run(true);
      expect(resumed.values).toEqual(straight.values);
      expect(Array.from(resumed.state.moments[0]!.secondMoment)).toEqual(
        Array.from(straight.state.moments[0]!.secondMoment),
      );
    });

    it("refuses a state whose shapes do not match the parameters", async () => {
      await useBackend(backend);
      const directory = mkdtempSync(join(tmpdir(), "apo-adamw-"));
      const small = tf.variable(tf.zeros([3]));
      const saved = new AdamW([small], options);
      await saved.save(directory);
      const large = tf.variable(tf.zeros([4]));
      const other = new AdamW([large], options);
      await expect(other.load(directory)).rejects.toThrow(/shape \[3\].*\[4\]/);
      rmSync(directory, { recursive: true, force: true });
      tf.dispose([small, large]);
      saved.dispose();
      other.dispose();
    });

    it("clips by the global norm as computed by hand", async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      // ‖(3, 4)‖² + ‖(12)‖² = 25 + 144 = 169 → norm 13.
      const gradients = [tf.tensor1d([3, 4]), tf.tensor1d([12])];
      expect(await globalGradientNorm(gradients)).toBeCloseTo(13, 5);
      const clipped = await clipByGlobalNorm(gradients, 6.5);
      expect(clipped.norm).toBeCloseTo(13, 5);
      const scale = 6.5 / (13 + 1e-6);
      expect(clipped.scale).toBeCloseTo(scale, 9);
      expect(Array.from(clipped.gradients[0]!.dataSync())[1]).toBeCloseTo(4 * scale, 5);
      expect(Array.from(clipped.gradients[1]!.dataSync())[0]).toBeCloseTo(12 * scale, 5);
      expect(await globalGradientNorm(clipped.gradients)).toBeCloseTo(6.5, 4);
      const untouched = await clipByGlobalNorm(gradients, 20);
      expect(untouched.scale).toBe(1);
      expect(Array.from(untouched.gradients[0]!.dataSync())).toEqual([3, 4]);
      const disabled = await clipByGlobalNorm(gradients, 0);
      expect(disabled.scale).toBe(1);
      const poisoned = [tf.tensor1d([Number.NaN, 1])];
      expect(Number.isNaN(await globalGradientNorm(poisoned))).toBe(true);
      tf.dispose([
        ...gradients,
        ...clipped.gradients,
        ...untouched.gradients,
        ...disabled.gradients,
        ...poisoned,
      ]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe("learning-rate schedule", () => {
  const schedule = { lr: 1e-3, warmupSteps: 2, schedule: "cosine" as const, minLrRatio: 0.1 };

  it("warms up linearly and then follows the cosine down to lr·minLrRatio", () => {
    // 7 steps: warm-up at steps 0, 1; cosine over steps 2..6 (span 4).
    expect(learningRateAt(schedule, 0, 7)).toBeCloseTo(0.5e-3, 12);
    expect(learningRateAt(schedule, 1, 7)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(schedule, 2, 7)).toBeCloseTo(1e-3, 12);
    // step 4: progress 1/2 → 1e-4 + 9e-4 · ½ (1 + cos(π/2)) = 1e-4 + 4.5e-4
    expect(learningRateAt(schedule, 4, 7)).toBeCloseTo(5.5e-4, 12);
    // step 3: progress 1/4 → 1e-4 + 9e-4 · ½ (1 + √2/2)
    expect(learningRateAt(schedule, 3, 7)).toBeCloseTo(1e-4 + 9e-4 * 0.5 * (1 + Math.SQRT1_2), 12);
    expect(learningRateAt(schedule, 6, 7)).toBeCloseTo(1e-4, 12);
  });

  it("stays constant after warm-up when asked", () => {
    const constant = { ...schedule, schedule: "constant" as const, warmupSteps: 4 };
    expect(learningRateAt(constant, 0, 10)).toBeCloseTo(2.5e-4, 12);
    expect(learningRateAt(constant, 9, 10)).toBe(1e-3);
  });

  it("uses the full rate for a single-step run without warm-up", () => {
    expect(learningRateAt({ ...schedule, warmupSteps: 0 }, 0, 1)).toBe(1e-3);
  });
});
