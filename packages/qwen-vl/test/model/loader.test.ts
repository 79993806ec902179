import { copyFileSync, readFileSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { initBackend } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { Effect } from "effect";
import { beforeAll, describe, expect, it } from "vitest";
import {
  CheckpointFileError,
  loadQwen25VL,
  loadQwen25VLEffect,
  MissingWeightError,
  ModelMemoryError,
  type Qwen25VLModel,
  SafetensorsDtypeError,
  SafetensorsFile,
  SafetensorsHeaderError,
  SafetensorsOffsetError,
  WeightShapeError,
} from "../../src/index.js";
import { fixtureDirectory, loadFixture } from "./support/fixtures.js";
import {
  encodeSafetensors,
  f32Bytes,
  type RawTensor,
  readAllTensors,
  temporaryDirectory,
  writeFile,
} from "./support/safetensors.js";

const fixtureConfig = readFileSync(join(fixtureDirectory("image"), "config.json"), "utf8");
let tensors: RawTensor[];

beforeAll(async () => {
  await initBackend("cpu");
  tensors = await readAllTensors(join(fixtureDirectory("image"), "model.safetensors"));
});

/** A checkpoint directory with the fixture config and the given safetensors bytes. */
const checkpointWith = (bytes: Uint8Array, config = fixtureConfig): string => {
  const directory = temporaryDirectory();
  writeFile(directory, "config.json", config);
  writeFile(directory, "model.safetensors", bytes);
  return directory;
};

const rejection = async (promise: Promise<unknown>): Promise<Error & Record<string, unknown>> => {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error("expected a rejection");
};

const sameParameters = (a: Qwen25VLModel, b: Qwen25VLModel) => {
  expect([...a.parameters.keys()].sort()).toEqual([...b.parameters.keys()].sort());
  for (const [name, variable] of a.parameters) {
    expect(Array.from(variable.dataSync()), name).toEqual(Array.from(b.parameters.get(name)!.dataSync()));
  }
};

describe("loadQwen25VL", () => {
  it("loads every weight of the fixture with a tied LM head and leaks nothing", async () => {
    const before = tf.memory().numTensors;
    const model = await loadQwen25VL(fixtureDirectory("image"));
    expect([...model.parameters.keys()].sort()).toEqual([...loadFixture("image").weight_names].sort());
    expect(model.lmHeadWeight).toBe(model.parameters.get("model.embed_tokens.weight"));
    expect(model.parameters.get("visual.patch_embed.proj.weight")!.shape).toEqual([32, 1176]);
    expect([...model.parameters.values()].every((variable) => !variable.trainable)).toBe(true);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("accepts the model.language_model.* / model.visual.* naming", async () => {
    const renamed = tensors.map((tensor) => ({
      ...tensor,
      name: tensor.name.startsWith("visual.")
        ? `model.${tensor.name}`
        : tensor.name.replace(/^model\./, "model.language_model."),
    }));
    const original = await loadQwen25VL(fixtureDirectory("image"));
    const loaded = await loadQwen25VL(checkpointWith(encodeSafetensors(renamed)));
    sameParameters(original, loaded);
    original.dispose();
    loaded.dispose();
  });

  it("loads sharded checkpoints through model.safetensors.index.json", async () => {
    const directory = temporaryDirectory();
    writeFile(directory, "config.json", fixtureConfig);
    const half = Math.floor(tensors.length / 2);
    const shards = [tensors.slice(0, half), tensors.slice(half)];
    const weightMap: Record<string, string> = {};
    shards.forEach((shard, index) => {
      const name = `model-0000${index + 1}-of-00002.safetensors`;
      writeFile(directory, name, encodeSafetensors(shard));
      for (const tensor of shard) weightMap[tensor.name] = name;
    });
    writeFile(
      directory,
      "model.safetensors.index.json",
      JSON.stringify({ metadata: {}, weight_map: weightMap }),
    );
    const original = await loadQwen25VL(fixtureDirectory("image"));
    const loaded = await loadQwen25VL(directory);
    sameParameters(original, loaded);
    original.dispose();
    loaded.dispose();
  });

  it("loads an untied LM head and requires it when tie_word_embeddings is false", async () => {
    const config = JSON.stringify({ ...JSON.parse(fixtureConfig), tie_word_embeddings: false });
    const head = new Float32Array(512 * 64).map((_, index) => Math.sin(index));
    const withHead = [
      ...tensors,
      { name: "lm_head.weight", dtype: "F32", shape: [512, 64], bytes: f32Bytes(head) },
    ];
    const model = await loadQwen25VL(checkpointWith(encodeSafetensors(withHead), config));
    expect(model.lmHeadWeight).not.toBe(model.parameters.get("model.embed_tokens.weight"));
    expect(Array.from(model.lmHeadWeight.dataSync())).toEqual(Array.from(head));
    const output = model.forward({ inputIds: [[1, 2, 3]] }, { logits: "last" });
    const hidden = output.hiddenStates.arraySync()[0]![2]!;
    const expected = Array.from({ length: 512 }, (_, v) =>
      hidden.reduce((sum, h, k) => sum + h * head[v * 64 + k]!, 0),
    );
    const logits = output.logits!.dataSync();
    const worst = Math.max(...expected.map((value, v) => Math.abs(logits[v]! - value)));
    expect(worst).toBeLessThan(1e-5);
    tf.dispose([output.hiddenStates, output.logits!]);
    model.dispose();
    const error = await rejection(loadQwen25VL(checkpointWith(encodeSafetensors(tensors), config)));
    expect(error).toBeInstanceOf(MissingWeightError);
    expect(error.tensor).toBe("lm_head.weight");
  });

  it("reads a small file whole and a large one tensor by tensor, with the same values; a file cut short after opening is an offset error either way", async () => {
    // Odd sizes, so that the tensors sit at offsets that are not multiples of 4 in the file.
    const a = new Float32Array([1.5, -2.25, 3]);
    const b = new Uint16Array([0x3c00, 0xc000, 0x3800]);
    const c = new Float32Array([7, 8]);
    const path = writeFile(
      temporaryDirectory(),
      "mixed.safetensors",
      encodeSafetensors([
        { name: "a", dtype: "F32", shape: [3], bytes: new Uint8Array(a.buffer) },
        { name: "b", dtype: "F16", shape: [3], bytes: new Uint8Array(b.buffer) },
        { name: "c", dtype: "F32", shape: [2], bytes: new Uint8Array(c.buffer) },
      ]),
    );
    for (const readWholeUpToBytes of [undefined, 0]) {
      const file = await SafetensorsFile.open(
        path,
        readWholeUpToBytes === undefined ? {} : { readWholeUpToBytes },
      );
      // In another order than stored, twice: each read a fresh buffer of exactly its tensor.
      for (const _ of [0, 1]) {
        const third = await file.read("c");
        expect(Array.from(third)).toEqual([7, 8]);
        expect(third.buffer.byteLength).toBe(8);
        expect(Array.from(await file.read("a"))).toEqual([1.5, -2.25, 3]);
        expect(Array.from(await file.read("b"))).toEqual([1, -2, 0.5]);
      }
      await file.close();
    }
    for (const readWholeUpToBytes of [undefined, 0]) {
      const cut = writeFile(temporaryDirectory(), "cut.safetensors", readFileSync(path));
      const file = await SafetensorsFile.open(
        cut,
        readWholeUpToBytes === undefined ? {} : { readWholeUpToBytes },
      );
      truncateSync(cut, statSync(cut).size - 4);
      const error = await rejection(file.read("c"));
      expect(error).toBeInstanceOf(SafetensorsOffsetError);
      expect(error.tensor).toBe("c");
      expect(Array.from(await file.read("a"))).toEqual([1.5, -2.25, 3]);
      await file.close();
    }
  });

  it("converts BF16 and F16 tensors to float32", async () => {
    const values = new Float32Array([1, -2, 0.5, 65504, 2 ** -24, 3.140625, -0]);
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x4248, 0x8000]);
    const bf16 = new Uint16Array(new Uint32Array(values.buffer).map((bits) => bits >>> 16));
    const path = writeFile(
      temporaryDirectory(),
      "halves.safetensors",
      encodeSafetensors([
        { name: "half", dtype: "F16", shape: [7], bytes: new Uint8Array(f16.buffer) },
        { name: "brain", dtype: "BF16", shape: [7], bytes: new Uint8Array(bf16.buffer) },
      ]),
    );
    const file = await SafetensorsFile.open(path);
    expect(Array.from(await file.read("half"))).toEqual(Array.from(values));
    expect(Array.from(await file.read("brain"))).toEqual([1, -2, 0.5, 65280, 2 ** -24, 3.140625, -0]);
    await file.close();
  });

  it("loads a BF16 checkpoint, rounding each weight as bfloat16 does", async () => {
    const asBf16 = tensors.map((tensor) => {
      const bits = new Uint32Array(tensor.bytes.buffer.slice(0));
      return {
        ...tensor,
        dtype: "BF16",
        bytes: new Uint8Array(new Uint16Array(bits.map((b) => b >>> 16)).buffer),
      };
    });
    const model = await loadQwen25VL(checkpointWith(encodeSafetensors(asBf16)));
    const source = tensors.find((tensor) => tensor.name === "model.norm.weight")!;
    const truncated = new Float32Array(
      new Uint32Array(source.bytes.buffer.slice(0)).map((b) => (b >>> 16) << 16).buffer,
    );
    expect(Array.from(model.parameters.get("model.norm.weight")!.dataSync())).toEqual(Array.from(truncated));
    model.dispose();
  });
});

describe("loader errors name the file and tensor", () => {
  it("truncated file", async () => {
    const bytes = encodeSafetensors(tensors);
    const directory = checkpointWith(bytes.slice(0, bytes.length - 10));
    const error = await rejection(loadQwen25VL(directory));
    expect(error).toBeInstanceOf(SafetensorsOffsetError);
    expect(error.file).toBe(join(directory, "model.safetensors"));
    expect(error.tensor).toBe(tensors.at(-1)!.name);
    expect(error.message).toMatch(/truncated/);
  });

  it("header length beyond the file", async () => {
    const bytes = encodeSafetensors(tensors.slice(0, 2));
    new DataView(bytes.buffer).setBigUint64(0, BigInt(bytes.length), true);
    const error = await rejection(loadQwen25VL(checkpointWith(bytes)));
    expect(error).toBeInstanceOf(SafetensorsHeaderError);
    expect(error.message).toMatch(/runs past the end of the file/);
    const huge = encodeSafetensors(tensors.slice(0, 2));
    new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
    expect(await rejection(loadQwen25VL(checkpointWith(huge)))).toBeInstanceOf(SafetensorsHeaderError);
  });

  it("header that is not JSON", async () => {
    const bytes = encodeSafetensors(tensors.slice(0, 1));
    bytes[8] = "!".charCodeAt(0);
    const error = await rejection(loadQwen25VL(checkpointWith(bytes)));
    expect(error).toBeInstanceOf(SafetensorsHeaderError);
    expect(error.message).toMatch(/not valid UTF-8 JSON/);
  });

  it("overlapping offsets", async () => {
    const [a, b] = [tensors[1]!, tensors[2]!];
    const bytes = encodeSafetensors(tensors, (header) => {
      const first = header[a.name]!.data_offsets;
      const size = b.bytes.length;
      header[b.name]!.data_offsets = [first[0], first[0] + size];
    });
    const error = await rejection(loadQwen25VL(checkpointWith(bytes)));
    expect(error).toBeInstanceOf(SafetensorsOffsetError);
    expect([a.name, b.name]).toContain(error.tensor);
    expect(error.message).toMatch(/overlap/);
  });

  it("missing tensor", async () => {
    const dropped = "model.layers.1.mlp.up_proj.weight";
    const error = await rejection(
      loadQwen25VL(checkpointWith(encodeSafetensors(tensors.filter((t) => t.name !== dropped)))),
    );
    expect(error).toBeInstanceOf(MissingWeightError);
    expect(error.tensor).toBe(dropped);
    expect(error.message).toContain(dropped);
  });

  it("shape mismatch", async () => {
    const name = "visual.blocks.2.attn.qkv.weight";
    const reshaped = tensors.map((t) => (t.name === name ? { ...t, shape: [32, 96] } : t));
    const error = await rejection(loadQwen25VL(checkpointWith(encodeSafetensors(reshaped))));
    expect(error).toBeInstanceOf(WeightShapeError);
    expect(error.tensor).toBe(name);
    expect(error.expected).toEqual([96, 32]);
    expect(error.actual).toEqual([32, 96]);
  });

  it("unknown dtype", async () => {
    const name = "model.norm.weight";
    const retyped = tensors.map((t) => (t.name === name ? { ...t, dtype: "I32" } : t));
    const error = await rejection(loadQwen25VL(checkpointWith(encodeSafetensors(retyped))));
    expect(error).toBeInstanceOf(SafetensorsDtypeError);
    expect(error.tensor).toBe(name);
    expect(error.dtype).toBe("I32");
  });

  it("directory without weights, and the Effect variant's typed failure", async () => {
    const directory = temporaryDirectory();
    copyFileSync(join(fixtureDirectory("image"), "config.json"), join(directory, "config.json"));
    const error = await Effect.runPromise(Effect.flip(loadQwen25VLEffect(directory)));
    expect(error).toBeInstanceOf(CheckpointFileError);
    expect(error._tag).toBe("CheckpointFileError");
    const loaded = await Effect.runPromise(loadQwen25VLEffect(fixtureDirectory("text_only")));
    expect(loaded.parameters.size).toBe(80);
    loaded.dispose();
  });

  it("a model too large for the wasm heap fails before reading any weight, naming backends that fit", async () => {
    const directory = temporaryDirectory();
    writeFile(
      directory,
      "config.json",
      JSON.stringify({
        model_type: "qwen2_5_vl",
        hidden_size: 2048,
        intermediate_size: 11008,
        num_hidden_layers: 36,
        num_attention_heads: 16,
        num_key_value_heads: 2,
        vocab_size: 151936,
        tie_word_embeddings: true,
        rms_norm_eps: 1e-6,
        rope_theta: 1_000_000,
        rope_scaling: { type: "mrope", mrope_section: [16, 24, 24] },
        vision_config: { hidden_size: 1280, out_hidden_size: 2048 },
      }),
    );
    const error = await rejection(loadQwen25VL(directory, { backend: "wasm" }));
    expect(error).toBeInstanceOf(ModelMemoryError);
    expect(error.requiredBytes).toBe(4 * 3_754_622_976);
    expect(error.message).toMatch(/wasm can hold 3\.75 GiB/);
    expect(error.fittingBackends).not.toContain("wasm");
  });
});
