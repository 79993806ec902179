import { decodeSync, type PolicyBatch, Rollout } from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import { Schema } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createQwenVLPolicy,
  frozenCopyQwen25VL,
  loadQwen25VL,
  PolicyBatchError,
  type Qwen25VLModel,
  type QwenVLPolicy,
  type QwenVLProcessorShape,
  ReferencePolicyError,
} from "../../src/index.js";
import { testBackendNames, useBackend } from "../model/support/backend.js";
import { fixtureDirectory, loadFixture, maxAbsDiff } from "../model/support/fixtures.js";
import { imageRequest, loadFixtureProcessor, textRequest } from "./support/fixturePolicy.js";

const image = loadFixture("image");
const textOnly = loadFixture("text_only");
const decodeRollouts = decodeSync(Schema.Array(Rollout), "rollouts");

/** Masked values of a `[S, T]` tensor as ragged rows. */
const ragged = (values: tf.Tensor, mask: tf.Tensor): number[][] => {
  const v = values.arraySync() as number[][];
  const m = mask.arraySync() as number[][];
  return v.map((row, k) => row.filter((_, t) => m[k]![t] === 1));
};

const maxRaggedDiff = (a: number[][], b: ReadonlyArray<ReadonlyArray<number>>) =>
  Math.max(...a.flatMap((row, k) => row.map((value, t) => Math.abs(value - b[k]![t]!))));

describe.each(testBackendNames)("createQwenVLPolicy, full fine-tuning (%s)", (backend) => {
  let model: Qwen25VLModel;
  let processor: QwenVLProcessorShape;
  let policy: QwenVLPolicy;
  let available = false;

  beforeAll(async () => {
    available = await useBackend(backend);
    if (!available) return;
    model = await loadQwen25VL(fixtureDirectory("image"));
    processor = await loadFixtureProcessor();
    policy = createQwenVLPolicy({ model, processor });
  });

  afterAll(() => {
    if (!available) return;
    policy.dispose();
    model.dispose();
  });

  it("greedy generation from chat requests reproduces both fixtures' greedy ids", async ({ skip }) => {
    if (!available) skip();
    const before = tf.memory().numTensors;
    const rollouts = await policy.generate([imageRequest(), textRequest()], {
      n: 2,
      temperature: 0,
      maxNewTokens: 8,
      seed: 0,
    });
    expect(tf.memory().numTensors).toBe(before);
    decodeRollouts(rollouts);
    expect(rollouts.map((r) => [r.promptId, r.groupIndex])).toEqual([
      ["image", 0],
      ["image", 1],
      ["text", 0],
      ["text", 1],
    ]);
    expect(rollouts[0]!.tokenIds).toEqual(image.greedy_new_ids);
    expect(rollouts[3]!.tokenIds).toEqual(textOnly.greedy_new_ids);
    expect(rollouts[0]!.text).toBe(image.greedy_new_ids.map((id) => `w${id}`).join(" "));
    expect(rollouts[0]!.finishReason).toBe("length");
  });

  it("logprobs of sampled rollouts equal the sampling log-probs (ratio 1) at several temperatures", async ({
    skip,
  }) => {
    if (!available) skip();
    const requests = [imageRequest(), textRequest()];
    for (const [temperature, topK] of [
      [1, 0],
      [0.7, 5],
      [0, 0],
    ] as const) {
      const rollouts = await policy.generate(requests, {
        n: 2,
        temperature,
        topK,
        maxNewTokens: 5,
        seed: 3,
        stopStrings: ["w7 "],
      });
      const batch: PolicyBatch = { requests, rollouts, temperature };
      const before = tf.memory().numTensors;
      const scored = policy.logprobs(batch);
      expect(scored.logp.shape).toEqual([4, Math.max(...rollouts.map((r) => r.tokenIds.length))]);
      const logp = ragged(scored.logp, scored.mask);
      expect(logp.map((row) => row.length)).toEqual(rollouts.map((r) => r.tokenIds.length));
      expect(
        maxRaggedDiff(
          logp,
          rollouts.map((r) => r.logprobs),
        ),
      ).toBeLessThan(1e-5);
      const entropy = scored.entropy!.arraySync() as number[][];
      expect(entropy.flat().every((value) => value >= 0 && value <= Math.log(512) + 1e-4)).toBe(true);
      tf.dispose([scored.logp, scored.mask, scored.entropy!]);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it("trains the text decoder only and gives finite gradients without leaking tensors", async ({ skip }) => {
    if (!available) skip();
    const trainable = policy.trainableParameters();
    const textNames = [...model.parameters.keys()].filter((name) => !name.startsWith("visual."));
    expect(trainable).toHaveLength(textNames.length);
    expect(trainable.every((variable) => variable.trainable)).toBe(true);
    expect(model.parameters.get("visual.blocks.0.attn.qkv.weight")!.trainable).toBe(false);
    const requests = [imageRequest()];
    const rollouts = await policy.generate(requests, { n: 2, temperature: 1, maxNewTokens: 4, seed: 1 });
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => {
      const scored = policy.logprobs({ requests, rollouts, temperature: 1 });
      return tf.sum(tf.mul(scored.logp, scored.mask)) as tf.Scalar;
    }, trainable as tf.Variable[]);
    const expected = rollouts.flatMap((r) => r.logprobs).reduce((a, b) => a + b, 0);
    expect(Math.abs(value.dataSync()[0]! - expected)).toBeLessThan(1e-4);
    const norms = Object.values(grads).map((g) => tf.tidy(() => tf.norm(g).dataSync()[0]!));
    expect(norms.every(Number.isFinite)).toBe(true);
    expect(grads["model.embed_tokens.weight"] ?? Object.values(grads)[0]).toBeDefined();
    expect(Math.max(...norms)).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("trains the decoder and the patch merger only with trainVisionTower: merger", async ({ skip }) => {
    if (!available) skip();
    const names = [...model.parameters.keys()];
    const expected = names.filter((name) => !name.startsWith("visual.") || name.startsWith("visual.merger."));
    expect(expected.some((name) => name.startsWith("visual.merger."))).toBe(true);
    const merger = createQwenVLPolicy({ model, processor, trainVisionTower: "merger" });
    expect(merger.trainableParameters().map((variable) => variable.name.replace(/^[^/]*\//, ""))).toEqual(
      expected,
    );
    expect(model.parameters.get("visual.merger.mlp.0.weight")!.trainable).toBe(true);
    expect(model.parameters.get("visual.blocks.0.attn.qkv.weight")!.trainable).toBe(false);
    // Creating a policy sets the flags of the shared model: restore the default (decoder only).
    createQwenVLPolicy({ model, processor });
    expect(model.parameters.get("visual.merger.mlp.0.weight")!.trainable).toBe(false);
  });
  it("scores rows that share a prompt with one prefill of it: equal to scoring each rollout alone", async ({
    skip,
  }) => {
    if (!available) skip();
    const requests = [imageRequest(), textRequest()];
    for (const maxNewTokens of [6, 1]) {
      const rollouts = await policy.generate(requests, { n: 3, temperature: 1, maxNewTokens, seed: 11 });
      const before = tf.memory().numTensors;
      // No tape, 3 rows per prompt: each prompt is prefilled once, its rows continue from the cache.
      const together = policy.logprobs({ requests, rollouts, temperature: 1 });
      const shared = ragged(together.logp, together.mask);
      const sharedEntropy = ragged(together.entropy!, together.mask);
      // Alone: one row per batch, the plain forward over prompt ++ response.
      rollouts.forEach((rollout, row) => {
        const alone = policy.logprobs({ requests, rollouts: [rollout], temperature: 1 });
        const [logp] = ragged(alone.logp, alone.mask);
        const [entropy] = ragged(alone.entropy!, alone.mask);
        expect(logp!.length).toBe(rollout.tokenIds.length);
        expect(maxRaggedDiff([shared[row]!], [logp!])).toBeLessThan(1e-5);
        expect(maxRaggedDiff([sharedEntropy[row]!], [entropy!])).toBeLessThan(1e-5);
        tf.dispose([alone.logp, alone.mask, alone.entropy!]);
      });
      // And the sampling log-probs of the generation (a third path: the decode loop).
      expect(
        maxRaggedDiff(
          shared,
          rollouts.map((rollout) => rollout.logprobs),
        ),
      ).toBeLessThan(1e-5);
      tf.dispose([together.logp, together.mask, together.entropy!]);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it("runs the vision tower once per prompt: shared-image scoring equals scoring each rollout alone", async ({
    skip,
  }) => {
    if (!available) skip();
    const merger = createQwenVLPolicy({ model, processor, trainVisionTower: "merger" });
    try {
      const requests = [imageRequest(), textRequest()];
      const rollouts = await merger.generate(requests, { n: 3, temperature: 1, maxNewTokens: 4, seed: 5 });
      const trainable = merger.trainableParameters() as tf.Variable[];
      const mergerWeight = trainable.find((variable) =>
        variable.name.endsWith("visual.merger.mlp.0.weight"),
      )!;
      const before = tf.memory().numTensors;
      const objective = (batchRollouts: typeof rollouts) => () => {
        const scored = merger.logprobs({ requests, rollouts: batchRollouts, temperature: 1 });
        return tf.sum(tf.mul(scored.logp, scored.mask)) as tf.Scalar;
      };
      // Together: 3 image rows share one run of the vision tower, features gathered per row.
      const together = tf.variableGrads(objective(rollouts), [mergerWeight]);
      // Alone: every rollout in its own batch, so every image goes through the tower on its own.
      let value = 0;
      let gradient: tf.Tensor = tf.zerosLike(mergerWeight);
      for (const rollout of rollouts) {
        if (rollout.promptId === "text") {
          // No image: no path to the merger, only a value.
          const scalar = tf.tidy(objective([rollout]));
          value += scalar.dataSync()[0]!;
          scalar.dispose();
          continue;
        }
        const alone = tf.variableGrads(objective([rollout]), [mergerWeight]);
        value += alone.value.dataSync()[0]!;
        const next = tf.add(gradient, alone.grads[mergerWeight.name]!);
        tf.dispose([gradient, alone.value, ...Object.values(alone.grads)]);
        gradient = next;
      }
      expect(Math.abs(together.value.dataSync()[0]! - value)).toBeLessThan(1e-4);
      const shared = together.grads[mergerWeight.name]!;
      const scale = tf.tidy(() => tf.max(tf.abs(gradient)).dataSync()[0]!);
      expect(scale).toBeGreaterThan(0);
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(shared, gradient))).dataSync()[0]!)).toBeLessThan(
        1e-4 * scale,
      );
      tf.dispose([together.value, ...Object.values(together.grads), gradient]);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      createQwenVLPolicy({ model, processor }); // restore the default (decoder only)
    }
  });

  it("needs a frozen copy for the reference; the copy keeps the initial weights", async ({ skip }) => {
    if (!available) skip();
    const requests = [textRequest()];
    const rollouts = await policy.generate(requests, { n: 1, temperature: 1, maxNewTokens: 4, seed: 2 });
    const batch = { requests, rollouts, temperature: 1 };
    expect(() => policy.logprobs(batch, { reference: true })).toThrow(ReferencePolicyError);
    const frozen = frozenCopyQwen25VL(model);
    const withReference = createQwenVLPolicy({ model, processor, reference: frozen });
    const norm = model.parameters.get("model.norm.weight")!;
    const original = norm.clone();
    norm.assign(tf.tidy(() => tf.mul(original, 1.5)));
    try {
      const reference = withReference.logprobs(batch, { reference: true });
      const current = withReference.logprobs(batch);
      expect(maxRaggedDiff(ragged(reference.logp, reference.mask), [rollouts[0]!.logprobs])).toBeLessThan(
        1e-5,
      );
      expect(maxRaggedDiff(ragged(current.logp, current.mask), [rollouts[0]!.logprobs])).toBeGreaterThan(
        1e-3,
      );
      expect(reference.entropy).toBeUndefined();
      tf.dispose([reference.logp, reference.mask, current.logp, current.mask, current.entropy!]);
    } finally {
      norm.assign(original);
      original.dispose();
      frozen.dispose();
    }
  });

  it("names the sample of a rollout whose prompt is missing from the batch", ({ skip }) => {
    if (!available) skip();
    const rollout = {
      promptId: "ghost",
      groupIndex: 0,
      tokenIds: [1],
      logprobs: [-1],
      text: "",
      finishReason: "length" as const,
    };
    const call = () => policy.logprobs({ requests: [textRequest()], rollouts: [rollout], temperature: 1 });
    expect(call).toThrow(PolicyBatchError);
    expect(call).toThrow(/ghost/);
  });

  it("matches the fixture's token log-probs when scoring the prompt's own continuation", ({ skip }) => {
    if (!available) skip();
    // Score the image prompt's last 3 tokens as a "response" to its first 41: the fixture's token_logprobs.
    const ids = image.inputs.input_ids;
    const split = ids.length - 3;
    const request = imageRequest();
    const prompt = processor.encode(request.messages);
    expect(Array.from(prompt.inputIds)).toEqual(ids);
    const words = (list: number[]) => list.map((id) => `w${id}`).join(" ");
    const shortened = {
      promptId: "short",
      messages: [
        {
          role: "user" as const,
          content: [
            { type: "text" as const, text: words(ids.slice(0, 4)) },
            { type: "image" as const, image: "image.png" },
            { type: "text" as const, text: "" },
          ],
        },
      ],
    };
    const rollout = {
      promptId: "short",
      groupIndex: 0,
      tokenIds: ids.slice(split),
      logprobs: ids.slice(split).map(() => -1),
      text: "",
      finishReason: "length" as const,
    };
    const scored = policy.logprobs({ requests: [shortened], rollouts: [rollout], temperature: 1 });
    expect(maxAbsDiff(scored.logp.dataSync(), image.token_logprobs.slice(split - 1))).toBeLessThan(1e-5);
    tf.dispose([scored.logp, scored.mask, scored.entropy!]);
  });
});
