import { createObjective } from "@apo-rl/objectives";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/loadConfig.js";
import { qwenPolicyFromConfig } from "../src/qwen/qwenPolicyFromConfig.js";
import { usesReferenceAtAnyStep } from "../src/trainingLoop.js";
import { useBackend } from "./support/backends.js";

const configWith = (objective: { name: string; options?: Record<string, unknown> }) =>
  resolveConfig({
    model: { checkpoint: "demo" },
    data: { format: "synthetic" },
    objective,
    train: { steps: 10 },
    backend: "cpu",
  });

/** Tensors the demo policy holds for a run of this objective. */
const tensorsHeld = async (objective: { name: string; options?: Record<string, unknown> }) => {
  const before = tf.memory().numTensors;
  const policy = (await qwenPolicyFromConfig(configWith(objective))) as unknown as {
    readonly dispose: () => void;
    readonly model: { readonly dispose: () => void };
  };
  const held = tf.memory().numTensors - before;
  policy.dispose();
  policy.model.dispose();
  return held;
};

describe("the trainer asks the objective whether it uses a reference", () => {
  it("dapo (β = 0) holds no frozen reference copy; grpo and a schedule starting at 0 do", async () => {
    await useBackend("cpu");
    // A first load creates the backend's shared tables (kept for later loads): not counted below.
    await tensorsHeld({ name: "grpo" });
    const dapo = await tensorsHeld({ name: "dapo" });
    const grpo = await tensorsHeld({ name: "grpo" });
    const zeroBeta = await tensorsHeld({ name: "apo", options: { beta: 0 } });
    const scheduled = await tensorsHeld({
      name: "grpoD",
      options: { klSchedule: { kind: "linear", betaMin: 0, betaMax: 1e-3, warmupFraction: 0.5 } },
    });
    expect(dapo).toBeLessThan(grpo);
    expect(zeroBeta).toBe(dapo);
    // GRPO-D's β is 0 at step 0 and positive later: the copy is needed for the later steps.
    expect(scheduled).toBe(grpo);
  });

  it("asks usesReference at every step of the run", () => {
    const scheduled = createObjective("grpoD", {
      klSchedule: { kind: "linear", betaMin: 0, betaMax: 1e-3, warmupFraction: 0.5 },
    });
    expect(scheduled.usesReference({ step: 0, totalSteps: 10 })).toBe(false);
    expect(usesReferenceAtAnyStep(scheduled, 10)).toBe(true);
    expect(usesReferenceAtAnyStep(createObjective("dapo"), 10)).toBe(false);
  });
});
