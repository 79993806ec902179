import { initBackend } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { Effect } from "effect";
import { beforeAll, describe, expect, it } from "vitest";
import { initQwen25VL, type LinearAdapter, Qwen25VL } from "../../src/index.js";
import { fixtureDirectory } from "./support/fixtures.js";
import { tinyQwenConfig } from "./support/tinyConfig.js";

const config = tinyQwenConfig(2);

beforeAll(async () => {
  await initBackend("cpu");
});

describe("initQwen25VL", () => {
  it("is deterministic per seed, initialises norms to 1 and biases to 0", () => {
    const a = initQwen25VL(config, { seed: 7 });
    const b = initQwen25VL(config, { seed: 7 });
    const c = initQwen25VL(config, { seed: 8 });
    const name = "model.layers.1.self_attn.q_proj.weight";
    expect(Array.from(a.parameters.get(name)!.dataSync())).toEqual(
      Array.from(b.parameters.get(name)!.dataSync()),
    );
    expect(Array.from(a.parameters.get(name)!.dataSync())).not.toEqual(
      Array.from(c.parameters.get(name)!.dataSync()),
    );
    expect(new Set(a.parameters.get("model.norm.weight")!.dataSync())).toEqual(new Set([1]));
    expect(new Set(a.parameters.get("visual.blocks.0.attn.qkv.bias")!.dataSync())).toEqual(new Set([0]));
    const values = a.parameters.get("model.embed_tokens.weight")!.dataSync();
    const std = Math.sqrt(Array.from(values).reduce((sum, v) => sum + v * v, 0) / values.length);
    expect(std).toBeGreaterThan(0.017);
    expect(std).toBeLessThan(0.023);
    for (const model of [a, b, c]) model.dispose();
  });

  it("draws the patch merger at 1/√fan_in with mergerStd: fan-in, the rest at std", () => {
    const model = initQwen25VL(config, { seed: 3, mergerStd: "fan-in" });
    const rms = (name: string) => {
      const values = model.parameters.get(name)!.dataSync();
      return Math.sqrt(Array.from(values).reduce((sum, v) => sum + v * v, 0) / values.length);
    };
    for (const name of ["visual.merger.mlp.0.weight", "visual.merger.mlp.2.weight"]) {
      const shape = model.parameters.get(name)!.shape;
      const expected = 1 / Math.sqrt(shape[shape.length - 1]!);
      expect(Math.abs(rms(name) / expected - 1)).toBeLessThan(0.1);
    }
    for (const name of ["model.layers.0.mlp.up_proj.weight", "visual.blocks.0.attn.qkv.weight"])
      expect(Math.abs(rms(name) / 0.02 - 1)).toBeLessThan(0.1);
    model.dispose();
  });

  it("builds only the text decoder with parts: text", () => {
    const model = initQwen25VL(config, { seed: 1, parts: "text" });
    expect(() => model.forward({ inputIds: [[1, 64]] })).toThrow(/inputIds\[0\]\[1\]/);
    expect([...model.parameters.keys()].some((name) => name.startsWith("visual."))).toBe(false);
    expect(() => model.encodeImages(new Float32Array(4 * 1176), [[1, 2, 2]])).toThrow(/no vision tower/);
    model.dispose();
  });
});

describe("linear adapter hook and gradients", () => {
  it("calls the adapter for every linear layer; adapter: null runs the base weights", () => {
    const model = initQwen25VL(config, { seed: 3 });
    const before = tf.memory().numTensors;
    const seen = new Set<string>();
    const adapter: LinearAdapter = {
      apply: (name, input, output) => {
        seen.add(name.replace(/\.\d+\./, ".N."));
        expect(input.shape.at(-1)).toBe(model.parameters.get(`${name}.weight`)!.shape[1]);
        return name.endsWith("o_proj") ? tf.add(output, 0.5) : output;
      },
    };
    model.linearAdapter = adapter;
    const grid = [[1, 4, 4]];
    const pixels = new Float32Array(16 * 1176).map((_, i) => Math.cos(i));
    const ids = [[5, config.tokens.visionStartTokenId, ...Array(4).fill(config.tokens.imageTokenId), 9]];
    const adapted = model.forward(
      { inputIds: ids, pixelValues: pixels, imageGridThw: grid },
      { logits: "last" },
    );
    const base = model.forward(
      { inputIds: ids, pixelValues: pixels, imageGridThw: grid },
      { logits: "last", adapter: null },
    );
    expect([...seen].sort()).toEqual(
      [
        "model.layers.N.self_attn.q_proj",
        "model.layers.N.self_attn.k_proj",
        "model.layers.N.self_attn.v_proj",
        "model.layers.N.self_attn.o_proj",
        "model.layers.N.mlp.gate_proj",
        "model.layers.N.mlp.up_proj",
        "model.layers.N.mlp.down_proj",
        "visual.patch_embed.proj",
        "visual.blocks.N.attn.qkv",
        "visual.blocks.N.attn.proj",
        "visual.blocks.N.mlp.gate_proj",
        "visual.blocks.N.mlp.up_proj",
        "visual.blocks.N.mlp.down_proj",
        "visual.merger.mlp.0",
        "visual.merger.mlp.2",
      ].sort(),
    );
    const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(adapted.logits!, base.logits!))).dataSync()[0]!);
    expect(difference).toBeGreaterThan(1e-3);
    tf.dispose([adapted.hiddenStates, adapted.logits!, base.hiddenStates, base.logits!]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("gradients through a LoRA-style adapter match central finite differences", () => {
    const model = initQwen25VL(config, { seed: 5, std: 0.2 });
    const a = tf.variable(tf.randomNormal([32, 2], 0, 0.3, "float32", 11), true);
    const b = tf.variable(tf.randomNormal([2, 32], 0, 0.3, "float32", 12), true);
    model.linearAdapter = {
      apply: (name, input, output) =>
        name === "model.layers.1.self_attn.q_proj"
          ? tf.add(output, tf.reshape(tf.matMul(tf.matMul(tf.reshape(input, [-1, 32]), a), b), output.shape))
          : output,
    };
    const ids = [[3, 9, 27, 1, 40, 12]];
    const loss = () =>
      tf.tidy(() => {
        const { hiddenStates, logits } = model.forward({ inputIds: ids }, { logits: true });
        hiddenStates.dispose();
        return tf.mean(tf.square(logits!)) as tf.Scalar;
      });
    const { grads } = tf.variableGrads(loss, [a]);
    const analytic = grads[a.name]!.dataSync();
    const original = a.dataSync().slice();
    const epsilon = 1e-2;
    for (const index of [0, 17, 40, 63]) {
      const at = (delta: number) => {
        const values = original.slice();
        values[index] += delta;
        a.assign(tf.tensor2d(values, [32, 2]));
        return tf.tidy(() => loss().dataSync()[0]!);
      };
      const numeric = (at(epsilon) - at(-epsilon)) / (2 * epsilon);
      expect(Math.abs(numeric - analytic[index]!)).toBeLessThan(1e-3 * Math.max(1, Math.abs(numeric)));
    }
    tf.dispose([a, b, grads[a.name]!]);
    model.dispose();
  });
});

describe("Qwen25VL service", () => {
  it("loads the model in a layer and disposes it when the scope closes", async () => {
    const before = tf.memory().numTensors;
    const program = Effect.gen(function* () {
      const model = yield* Qwen25VL;
      return model.parameters.size;
    });
    const size = await Effect.runPromise(
      Effect.provide(program, Qwen25VL.layer(fixtureDirectory("text_only"))),
    );
    expect(size).toBe(80);
    expect(tf.memory().numTensors).toBe(before);
  });
});
