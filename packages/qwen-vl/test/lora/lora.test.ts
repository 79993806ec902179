import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidInputError, type PolicyBatch } from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createLoraAdapter,
  createQwenVLPolicy,
  type LoraAdapter,
  LoraAdapterError,
  loadLoraAdapter,
  loadQwen25VL,
  type Qwen25VLModel,
  type QwenVLPolicy,
  type QwenVLProcessorShape,
  SafetensorsFile,
  writeSafetensors,
} from "../../src/index.js";
import { testBackendNames, useBackend } from "../model/support/backend.js";
import { fixtureDirectory } from "../model/support/fixtures.js";
import { imageRequest, loadFixtureProcessor, textRequest } from "../policy/support/fixturePolicy.js";

const LAYERS = 2;
const temporary = () => mkdtempSync(join(tmpdir(), "qwen-vl-lora-"));

/** Give every B a seeded random value so the adapters change the model. */
const randomiseB = (adapter: LoraAdapter, seed: number) => {
  let index = 0;
  for (const pair of adapter.modules.values()) {
    pair.b.assign(tf.tidy(() => tf.randomNormal(pair.b.shape, 0, 0.05, "float32", seed + index++)));
  }
};

const logprobsOf = (policy: QwenVLPolicy, batch: PolicyBatch, reference = false): number[][] => {
  const scored = policy.logprobs(batch, { reference });
  const values = scored.logp.arraySync() as number[][];
  tf.dispose([scored.logp, scored.mask, ...(scored.entropy === undefined ? [] : [scored.entropy])]);
  return values;
};

const maxDiff = (a: number[][], b: number[][]) =>
  Math.max(...a.flatMap((row, k) => row.map((value, t) => Math.abs(value - b[k]![t]!))));

describe("LoRA options", () => {
  it("rejects a bad rank, dropout or target module, naming the field", async () => {
    await useBackend("cpu");
    const model = await loadQwen25VL(fixtureDirectory("image"), { parts: "text" });
    try {
      expect(() => createLoraAdapter(model, { rank: 0, alpha: 8 })).toThrow(InvalidInputError);
      expect(() => createLoraAdapter(model, { rank: 0, alpha: 8 })).toThrow(/rank/);
      expect(() => createLoraAdapter(model, { rank: 2, alpha: 8, dropout: 1 })).toThrow(/dropout/);
      expect(() => createLoraAdapter(model, { rank: 2, alpha: 8, targetModules: ["qkv"] })).toThrow(
        /targetModules/,
      );
    } finally {
      model.dispose();
    }
  });
});

describe.each(testBackendNames)("LoRA (%s)", (backend) => {
  let model: Qwen25VLModel;
  let processor: QwenVLProcessorShape;
  let policy: QwenVLPolicy;
  let batch: PolicyBatch;
  let textBatch: PolicyBatch;
  let baseline: number[][];
  let available = false;

  beforeAll(async () => {
    available = await useBackend(backend);
    if (!available) return;
    model = await loadQwen25VL(fixtureDirectory("image"));
    processor = await loadFixtureProcessor();
    const base = createQwenVLPolicy({ model, processor });
    const requests = [imageRequest(), textRequest()];
    const rollouts = await base.generate(requests, { n: 1, temperature: 1, maxNewTokens: 4, seed: 4 });
    batch = { requests, rollouts, temperature: 1 };
    textBatch = { requests: [requests[1]!], rollouts: [rollouts[1]!], temperature: 0.8 };
    baseline = logprobsOf(base, batch);
    policy = createQwenVLPolicy({
      model,
      processor,
      lora: { rank: 4, alpha: 8, targetModules: ["q_proj", "v_proj", "down_proj"], seed: 1 },
    });
  });

  afterAll(() => {
    if (!available) return;
    policy.dispose();
    model.dispose();
  });

  it("adapts the chosen decoder modules only, and trains only the adapters", ({ skip }) => {
    if (!available) skip();
    const adapter = policy.adapter!;
    expect([...adapter.modules.keys()]).toEqual(
      Array.from({ length: LAYERS }, (_, layer) => [
        `model.layers.${layer}.self_attn.q_proj`,
        `model.layers.${layer}.self_attn.v_proj`,
        `model.layers.${layer}.mlp.down_proj`,
      ]).flat(),
    );
    const down = adapter.modules.get("model.layers.0.mlp.down_proj")!;
    expect(down.a.shape).toEqual([4, 128]);
    expect(down.b.shape).toEqual([64, 4]);
    // Kaiming-uniform A: |a| ≤ 1/√in.
    expect(Math.max(...Array.from(down.a.dataSync(), Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(128));
    expect(policy.trainableParameters()).toEqual(adapter.variables());
    expect([...model.parameters.values()].some((variable) => variable.trainable)).toBe(false);
    expect(adapter.scale).toBe(2);
  });

  it("starts equal to the base model (B = 0)", ({ skip }) => {
    if (!available) skip();
    expect(maxDiff(logprobsOf(policy, batch), baseline)).toBeLessThan(1e-6);
  });

  it("applies W + (alpha/r)·B·A (checked in float64) and the reference disables it", ({ skip }) => {
    if (!available) skip();
    const adapter = policy.adapter!;
    randomiseB(adapter, 10);
    const name = "model.layers.1.self_attn.v_proj";
    const pair = adapter.modules.get(name)!;
    const x = tf.tidy(() => tf.randomNormal([3, 64], 0, 1, "float32", 5));
    const y = tf.zeros([3, pair.b.shape[0]!]);
    const out = tf.tidy(() => adapter.apply(name, x, y));
    const [xs, as, bs] = [x, pair.a, pair.b].map((t) => t.arraySync() as number[][]);
    const expected = xs!.map((row) =>
      bs!.map((bRow) =>
        bRow.reduce((sum, b, r) => sum + 2 * b * as![r]!.reduce((dot, a, i) => dot + a * row[i]!, 0), 0),
      ),
    );
    const actual = out.arraySync() as number[][];
    expect(maxDiff(actual, expected)).toBeLessThan(1e-5);
    tf.dispose([x, y, out]);
    const adapted = logprobsOf(policy, batch);
    expect(maxDiff(adapted, baseline)).toBeGreaterThan(1e-3);
    expect(maxDiff(logprobsOf(policy, batch, true), baseline)).toBeLessThan(1e-6);
  });

  it("gives LoRA gradients that match central finite differences", ({ skip }) => {
    if (!available) skip();
    const adapter = policy.adapter!;
    const pair = adapter.modules.get("model.layers.0.self_attn.q_proj")!;
    const objective = () =>
      tf.tidy(() => {
        const scored = policy.logprobs(textBatch, { reference: false });
        return tf.sum(tf.mul(scored.logp, scored.mask)) as tf.Scalar;
      });
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(objective, [pair.a, pair.b]);
    const gradA = grads[pair.a.name]!.dataSync();
    const gradB = grads[pair.b.name]!.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    for (const [variable, gradient] of [
      [pair.a, gradA],
      [pair.b, gradB],
    ] as const) {
      let index = 0;
      for (let i = 1; i < gradient.length; i++)
        if (Math.abs(gradient[i]!) > Math.abs(gradient[index]!)) index = i;
      const original = variable.dataSync().slice();
      const epsilon = 1e-2;
      const at = (delta: number) => {
        const values = original.slice();
        values[index]! += delta;
        variable.assign(tf.tensor(values, variable.shape));
        const result = objective();
        const number = result.dataSync()[0]!;
        result.dispose();
        return number;
      };
      const numeric = (at(epsilon) - at(-epsilon)) / (2 * epsilon);
      variable.assign(tf.tensor(original, variable.shape));
      expect(Math.abs(numeric - gradient[index]!)).toBeLessThan(0.02 * Math.abs(gradient[index]!) + 5e-3);
    }
  });

  it("saves and loads the PEFT layout, and merges into a full checkpoint", async ({ skip }) => {
    if (!available) skip();
    const adapted = logprobsOf(policy, batch);
    const directory = temporary();
    await policy.save(directory);
    const config = JSON.parse(readFileSync(join(directory, "adapter_config.json"), "utf8"));
    expect(config).toMatchObject({
      peft_type: "LORA",
      r: 4,
      lora_alpha: 8,
      target_modules: ["q_proj", "v_proj", "down_proj"],
    });
    const file = await SafetensorsFile.open(join(directory, "adapter_model.safetensors"));
    const names = [...file.header.entries.keys()];
    await file.close();
    expect(names).toHaveLength(2 * 3 * LAYERS);
    expect(names).toContain("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
    expect(names).toContain("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight");
    expect(
      file.header.entries.get("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight")!.shape,
    ).toEqual([64, 4]);

    // Into a fresh adapter on another model instance.
    const other = await loadQwen25VL(fixtureDirectory("image"));
    const loaded = await loadLoraAdapter(other, directory);
    const otherPolicy = createQwenVLPolicy({ model: other, processor, lora: loaded });
    expect(logprobsOf(otherPolicy, batch)).toEqual(adapted);
    // policy.load overwrites the adapter's values in place.
    randomiseB(loaded, 99);
    expect(maxDiff(logprobsOf(otherPolicy, batch), adapted)).toBeGreaterThan(1e-4);
    await otherPolicy.load(directory);
    expect(logprobsOf(otherPolicy, batch)).toEqual(adapted);
    loaded.dispose();
    other.dispose();

    const merged = temporary();
    await policy.saveMerged(merged);
    const mergedModel = await loadQwen25VL(merged);
    const mergedPolicy = createQwenVLPolicy({ model: mergedModel, processor });
    expect(maxDiff(logprobsOf(mergedPolicy, batch), adapted)).toBeLessThan(1e-5);
    mergedModel.dispose();
  });

  it("reads the transformers ≥ 4.52 naming and refuses a rank or shape mismatch", async ({ skip }) => {
    if (!available) skip();
    const directory = temporary();
    await policy.save(directory);
    const file = await SafetensorsFile.open(join(directory, "adapter_model.safetensors"));
    const tensors = await Promise.all(
      [...file.header.entries.values()].map(async (entry) => ({
        name: entry.name.replace("base_model.model.model.", "base_model.model.model.language_model."),
        shape: entry.shape,
        data: await file.read(entry.name),
      })),
    );
    await file.close();
    await writeSafetensors(
      join(directory, "adapter_model.safetensors"),
      tensors.map((tensor) => ({ name: tensor.name, shape: tensor.shape, values: () => tensor.data })),
    );
    const adapted = logprobsOf(policy, batch);
    randomiseB(policy.adapter!, 7);
    await policy.load(directory);
    expect(logprobsOf(policy, batch)).toEqual(adapted);

    const wrongRank = createQwenVLPolicy({
      model,
      processor,
      lora: { rank: 2, alpha: 8, targetModules: ["q_proj", "v_proj", "down_proj"] },
    });
    await expect(wrongRank.load(directory)).rejects.toThrow(LoraAdapterError);
    await expect(wrongRank.load(directory)).rejects.toThrow(/rank/);
    wrongRank.dispose();
    model.linearAdapter = policy.adapter;
    await expect(policy.load(temporary())).rejects.toThrow(LoraAdapterError);
  });

  it("applies dropout only while gradients are recorded", ({ skip }) => {
    if (!available) skip();
    const dropped = createQwenVLPolicy({ model, processor, lora: { rank: 4, alpha: 8, dropout: 0.5 } });
    randomiseB(dropped.adapter!, 3);
    const plain = logprobsOf(dropped, batch);
    expect(maxDiff(logprobsOf(dropped, batch), plain)).toBe(0);
    const { value, grads } = tf.variableGrads(() => {
      const scored = dropped.logprobs(batch);
      return tf.sum(tf.mul(scored.logp, scored.mask)) as tf.Scalar;
    }, dropped.trainableParameters() as tf.Variable[]);
    const sum = plain.flat().reduce((a, b) => a + b, 0);
    expect(Math.abs(value.dataSync()[0]! - sum)).toBeGreaterThan(1e-4);
    tf.dispose([value, ...Object.values(grads)]);
    dropped.dispose();
    model.linearAdapter = policy.adapter;
  });
});
