import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  createLoraAdapter,
  type GenerationPrompt,
  generateTokens,
  initQwen25VL,
  type LinearAdapter,
  type LoraAdapter,
  type Qwen25VLModel,
  scoreResponses,
} from "../../src/index.js";
import { asyncTestBackendNames, tolerance, useBackend } from "../model/support/backend.js";
import { tinyImagePrompt, tinyQwenConfig } from "../model/support/tinyConfig.js";

const config = tinyQwenConfig(2);
const textPrompt: GenerationPrompt = { inputIds: [3, 9, 27, 1, 40, 12, 8] };
const imagePrompt = tinyImagePrompt(config);
const prompts = [textPrompt, imagePrompt];
// Several end tokens: rows finish at different steps, so rows (and their twins) leave the batch.
const settings = {
  n: 3,
  temperature: 0.8,
  maxNewTokens: 7,
  seed: 11,
  eosTokenIds: [4, 17, 30, 41],
  padTokenId: 63,
} as const;

const flat = async (tensor: tf.Tensor) => Array.from(await tensor.data());

describe.each(asyncTestBackendNames)("reference twins in generateTokens (%s)", (backend) => {
  let model: Qwen25VLModel;
  let lora: LoraAdapter;
  let available = false;
  let before = 0;

  beforeAll(async () => {
    available = await useBackend(backend);
    if (!available) return;
    before = tf.memory().numTensors;
    model = initQwen25VL(config, { seed: 3 });
    lora = createLoraAdapter(model, { rank: 4, alpha: 8, targetModules: ["q_proj", "v_proj", "o_proj"] });
    // B starts at zero (the adapter is then the identity): move it so policy ≠ reference.
    for (const variable of lora.variables()) {
      const moved = tf.tidy(() =>
        tf.add(variable, tf.mul(tf.randomNormal(variable.shape, 0, 1, "float32", 5), 0.4)),
      );
      variable.assign(moved);
      moved.dispose();
    }
  });

  afterAll(() => {
    if (!available) return;
    lora.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("samples the same rollouts with and without twins", async ({ skip }) => {
    if (!available) skip();
    const plain = await generateTokens(model, prompts, { ...settings, adapter: lora });
    const twinned = await generateTokens(model, prompts, {
      ...settings,
      adapter: lora,
      reference: { adapter: null },
    });
    expect(new Set(plain.map((sequence) => sequence.tokenIds.length)).size).toBeGreaterThan(1);
    expect(twinned.map((sequence) => sequence.tokenIds)).toEqual(plain.map((sequence) => sequence.tokenIds));
    expect(twinned.map((sequence) => sequence.finishReason)).toEqual(
      plain.map((sequence) => sequence.finishReason),
    );
    twinned.forEach((sequence, row) => {
      expect(sequence.referenceLogprobs).toHaveLength(sequence.tokenIds.length);
      sequence.logprobs.forEach((logprob, t) => {
        expect(Math.abs(logprob - plain[row]!.logprobs[t]!)).toBeLessThan(tolerance(backend, 1e-5));
      });
    });
    expect(plain[0]!.referenceLogprobs).toBeUndefined();
  });

  it("gives each token the reference's log-prob: the base weights' scoring pass", async ({ skip }) => {
    if (!available) skip();
    const sequences = await generateTokens(model, prompts, {
      ...settings,
      adapter: lora,
      reference: { adapter: null },
    });
    const rowsPrompts = sequences.map((sequence) => prompts[sequence.promptIndex]!);
    const responses = sequences.map((sequence) => sequence.tokenIds);
    const scored = (adapter: LoraAdapter | null) =>
      scoreResponses(model, rowsPrompts, responses, {
        temperature: settings.temperature,
        padTokenId: settings.padTokenId,
        adapter,
        entropy: false,
      });
    const reference = scored(null);
    const policy = scored(lora);
    const [referenceValues, policyValues, mask] = await Promise.all([
      flat(reference.logp),
      flat(policy.logp),
      flat(reference.mask),
    ]);
    const width = reference.logp.shape[1]!;
    let apart = 0;
    sequences.forEach((sequence, row) => {
      sequence.referenceLogprobs!.forEach((value, t) => {
        expect(mask[row * width + t]).toBe(1);
        expect(Math.abs(value - referenceValues[row * width + t]!)).toBeLessThan(tolerance(backend, 1e-4));
        apart = Math.max(apart, Math.abs(value - policyValues[row * width + t]!));
      });
    });
    // The adapter moved the policy away from the reference: the twins did not score the policy.
    expect(apart).toBeGreaterThan(1e-2);
    tf.dispose([reference.logp, reference.mask, policy.logp, policy.mask]);
  });

  it("encodes the images once for a text-decoder LoRA, once per adapter when one adapts the vision tower", async ({
    skip,
  }) => {
    if (!available) skip();
    const encode = vi.spyOn(model, "encodeImages");
    try {
      await generateTokens(model, prompts, { ...settings, adapter: lora, reference: { adapter: null } });
      expect(encode).toHaveBeenCalledTimes(1);
      encode.mockClear();
      // The text LoRA plus a change of one vision block's attention projection.
      const visionAdapter: LinearAdapter = {
        apply: (moduleName, input, output) =>
          moduleName === "visual.blocks.0.attn.qkv"
            ? tf.mul(output, 1.5)
            : lora.apply(moduleName, input, output),
      };
      const plain = await generateTokens(model, prompts, { ...settings, adapter: visionAdapter });
      encode.mockClear();
      const twinned = await generateTokens(model, prompts, {
        ...settings,
        adapter: visionAdapter,
        reference: { adapter: null },
      });
      expect(encode).toHaveBeenCalledTimes(2);
      expect(twinned.map((sequence) => sequence.tokenIds)).toEqual(
        plain.map((sequence) => sequence.tokenIds),
      );
      const rowsPrompts = twinned.map((sequence) => prompts[sequence.promptIndex]!);
      const reference = scoreResponses(
        model,
        rowsPrompts,
        twinned.map((sequence) => sequence.tokenIds),
        { temperature: settings.temperature, padTokenId: settings.padTokenId, adapter: null, entropy: false },
      );
      const values = await flat(reference.logp);
      const width = reference.logp.shape[1]!;
      twinned.forEach((sequence, row) => {
        sequence.referenceLogprobs!.forEach((value, t) => {
          expect(Math.abs(value - values[row * width + t]!)).toBeLessThan(tolerance(backend, 1e-4));
        });
      });
      tf.dispose([reference.logp, reference.mask]);
    } finally {
      encode.mockRestore();
    }
  });
});
