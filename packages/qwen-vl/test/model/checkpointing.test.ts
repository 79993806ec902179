import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { createLoraAdapter, initQwen25VL, type Qwen25VLModel } from "../../src/index.js";
import { testBackendNames, useBackend } from "./support/backend.js";
import { tinyQwenConfig } from "./support/tinyConfig.js";

const config = tinyQwenConfig(3);

const grid = [[1, 4, 4]];
const pixels = new Float32Array(16 * 1176).map((_, i) => Math.cos(i * 0.37));
const imageIds = [
  [5, config.tokens.visionStartTokenId, ...Array(4).fill(config.tokens.imageTokenId), 9, 13, 2],
  [0, config.tokens.visionStartTokenId, ...Array(4).fill(config.tokens.imageTokenId), 7, 3, 11],
];
const imageMask = [
  [1, 1, 1, 1, 1, 1, 1, 1, 1],
  [0, 1, 1, 1, 1, 1, 1, 1, 1],
];

/** A loss that weights every logit differently (so no gradient is trivially symmetric). */
const lossOf = (model: Qwen25VLModel, withImage: boolean) => (): tf.Scalar =>
  tf.tidy(() => {
    const input = withImage
      ? {
          inputIds: imageIds,
          attentionMask: imageMask,
          pixelValues: new Float32Array([...pixels, ...pixels]),
          imageGridThw: [...grid, ...grid],
        }
      : { inputIds: [[3, 9, 27, 1, 40, 12, 8]] };
    const { hiddenStates, logits } = model.forward(input, { logits: true });
    hiddenStates.dispose();
    const weights = tf.sin(tf.reshape(tf.range(0, logits!.size), logits!.shape));
    return tf.mean(tf.mul(tf.square(logits!), weights)) as tf.Scalar;
  });

const gradientsOf = (model: Qwen25VLModel, variables: tf.Variable[], withImage: boolean, on: boolean) => {
  model.gradientCheckpointing = on;
  if (model.linearAdapter !== undefined) model.linearAdapter.randomDraws = 0;
  const { value, grads } = tf.variableGrads(lossOf(model, withImage), variables);
  const result = {
    loss: value.dataSync()[0]!,
    grads: variables.map((variable) => Float32Array.from(grads[variable.name]!.dataSync())),
  };
  tf.dispose([value, ...Object.values(grads)]);
  return result;
};

const relativeError = (actual: Float32Array, expected: Float32Array): number => {
  let difference = 0;
  let norm = 0;
  expected.forEach((value, index) => {
    difference += (actual[index]! - value) ** 2;
    norm += value ** 2;
  });
  return Math.sqrt(difference) / Math.max(Math.sqrt(norm), 1e-30);
};

describe.each(testBackendNames)("activation checkpointing on %s", (backend) => {
  it("full fine-tuning with an image: every gradient equals the stored-activation one, no tensor leaks", async ({
    skip,
  }) => {
    if (!(await useBackend(backend))) return skip();
    const model = initQwen25VL(config, { seed: 5, std: 0.2, trainable: true });
    const variables = [...model.parameters.values()];
    const before = tf.memory().numTensors;
    const off = gradientsOf(model, variables, true, false);
    const afterOff = tf.memory().numTensors;
    const on = gradientsOf(model, variables, true, true);
    expect(tf.memory().numTensors).toBe(before);
    expect(afterOff).toBe(before);
    expect(on.loss).toBeCloseTo(off.loss, 6);
    variables.forEach((variable, index) => {
      const norm = Math.hypot(...off.grads[index]!);
      if (norm === 0) expect(Math.hypot(...on.grads[index]!)).toBe(0);
      else
        expect(relativeError(on.grads[index]!, off.grads[index]!), variable.name).toBeLessThanOrEqual(1e-5);
    });
    // The decoder's and the vision tower's gradients are really exercised.
    const named = (name: string) => off.grads[[...model.parameters.keys()].indexOf(name)]!;
    expect(Math.hypot(...named("visual.blocks.0.attn.qkv.weight"))).toBeGreaterThan(0);
    expect(Math.hypot(...named("model.layers.0.mlp.up_proj.weight"))).toBeGreaterThan(0);
    model.dispose();
  });

  it("LoRA with dropout: the recomputation replays the same masks", async ({ skip }) => {
    if (!(await useBackend(backend))) return skip();
    const model = initQwen25VL(config, { seed: 9, std: 0.2, parts: "text" });
    const adapter = createLoraAdapter(model, {
      rank: 2,
      alpha: 4,
      dropout: 0.3,
      targetModules: ["q_proj", "v_proj", "up_proj"],
    });
    // B starts at zero; give it values so that A's gradient is not zero too.
    for (const variable of adapter.variables())
      if (variable.name.endsWith("lora_B"))
        variable.assign(tf.randomNormal(variable.shape, 0, 0.3, "float32", 4));
    const variables = [...adapter.variables()];
    const before = tf.memory().numTensors;
    const off = gradientsOf(model, variables, false, false);
    const on = gradientsOf(model, variables, false, true);
    expect(tf.memory().numTensors).toBe(before);
    expect(on.loss).toBeCloseTo(off.loss, 6);
    variables.forEach((variable, index) => {
      expect(Math.hypot(...off.grads[index]!), variable.name).toBeGreaterThan(0);
      expect(relativeError(on.grads[index]!, off.grads[index]!), variable.name).toBeLessThanOrEqual(1e-5);
    });
    // Without the replay (a different dropout seed) the gradients would differ: dropout is active.
    model.gradientCheckpointing = false;
    adapter.randomDraws = 1000;
    const { value, grads } = tf.variableGrads(lossOf(model, false), variables);
    const shifted = Float32Array.from(grads[variables[0]!.name]!.dataSync());
    tf.dispose([value, ...Object.values(grads)]);
    expect(relativeError(shifted, off.grads[0]!)).toBeGreaterThan(1e-3);
    adapter.dispose();
    model.dispose();
  });

  it("keeps fewer bytes at the peak of a training forward + backward", async ({ skip }) => {
    if (!(await useBackend(backend))) return skip();
    const model = initQwen25VL(config, { seed: 2, std: 0.2, parts: "text", trainable: true });
    const variables = [...model.parameters.values()];
    const ids = [Array.from({ length: 48 }, (_, i) => (i * 7) % 60)];
    const peakOf = async (on: boolean) => {
      model.gradientCheckpointing = on;
      const profile = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(
          () =>
            tf.tidy(() => {
              const { hiddenStates } = model.forward({ inputIds: ids });
              return tf.mean(tf.square(hiddenStates)) as tf.Scalar;
            }),
          variables,
        );
        tf.dispose([value, ...Object.values(grads)]);
      });
      return profile.peakBytes - profile.newBytes;
    };
    const withoutCheckpointing = await peakOf(false);
    const withCheckpointing = await peakOf(true);
    expect(withCheckpointing).toBeLessThan(withoutCheckpointing);
    model.dispose();
  });
});
