import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createQwenVLPolicy,
  decodeGenerationConfig,
  decodeQwen25VLConfig,
  loadQwen25VL,
  MissingWeightError,
  type Qwen25VLModel,
  qwen25VLConfigJson,
  readGenerationConfig,
  readQwen25VLConfig,
  SafetensorsFile,
  WeightShapeError,
  writeSafetensors,
} from "../../src/index.js";
import { useBackend } from "../model/support/backend.js";
import { fixtureDirectory, loadFixture } from "../model/support/fixtures.js";
import { fixtureProcessorDirectory, loadFixtureProcessor } from "./support/fixturePolicy.js";

const temporary = () => mkdtempSync(join(tmpdir(), "qwen-vl-checkpoint-"));
const image = loadFixture("image");

const logitsOf = (model: Qwen25VLModel): Float32Array => {
  const output = model.forward(
    {
      inputIds: [image.inputs.input_ids],
      pixelValues: new Float32Array(image.inputs.pixel_values!.flat()),
      imageGridThw: image.inputs.image_grid_thw!,
    },
    { logits: true },
  );
  const values = output.logits!.dataSync() as Float32Array;
  tf.dispose([output.hiddenStates, output.logits!]);
  return values;
};

describe("writeSafetensors", () => {
  it("writes an aligned F32 file the reader reads back, atomically", async () => {
    const directory = temporary();
    const file = join(directory, "t.safetensors");
    const a = new Float32Array([1.5, -2, 3.25, Number.MIN_VALUE, 1e30, -0]);
    const b = new Float32Array([7]);
    await writeSafetensors(file, [
      { name: "a", shape: [2, 3], values: () => a },
      { name: "b.weight", shape: [1], values: async () => b },
    ]);
    const bytes = readFileSync(file);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    expect((8 + headerLength) % 8).toBe(0);
    expect(bytes.length).toBe(8 + headerLength + 7 * 4);
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8"));
    expect(header.a).toEqual({ dtype: "F32", shape: [2, 3], data_offsets: [0, 24] });
    expect(header["b.weight"]).toEqual({ dtype: "F32", shape: [1], data_offsets: [24, 28] });
    expect(header.__metadata__).toEqual({ format: "pt" });
    const reader = await SafetensorsFile.open(file);
    expect(Array.from(await reader.read("a"))).toEqual(Array.from(a));
    expect(Array.from(await reader.read("b.weight"))).toEqual([7]);
    await reader.close();
    expect(readdirSync(directory)).toEqual(["t.safetensors"]);
  });

  it("fails on a length mismatch or duplicate name and leaves the old file intact", async () => {
    const directory = temporary();
    const file = join(directory, "t.safetensors");
    await writeSafetensors(file, [{ name: "x", shape: [2], values: () => new Float32Array([1, 2]) }]);
    const before = readFileSync(file);
    await expect(
      writeSafetensors(file, [{ name: "x", shape: [3], values: () => new Float32Array([1, 2]) }]),
    ).rejects.toThrow(/"x" has 2 values/);
    await expect(
      writeSafetensors(file, [
        { name: "x", shape: [1], values: () => new Float32Array([1]) },
        { name: "x", shape: [1], values: () => new Float32Array([1]) },
      ]),
    ).rejects.toThrow(/duplicate/);
    expect(readFileSync(file)).toEqual(before);
    expect(readdirSync(directory)).toEqual(["t.safetensors"]);
  });
});

describe("config and generation config", () => {
  it("qwen25VLConfigJson round-trips through the config decoder", async () => {
    const config = await readQwen25VLConfig(fixtureDirectory("image"));
    expect(decodeQwen25VLConfig(qwen25VLConfigJson(config))).toEqual(config);
    expect(decodeQwen25VLConfig(JSON.parse(JSON.stringify(qwen25VLConfigJson(config))))).toEqual(config);
  });

  it("reads eos ids as one id or a list", async () => {
    expect(await readGenerationConfig(fixtureDirectory("image"))).toEqual({ eosTokenIds: [505] });
    expect(decodeGenerationConfig({ eos_token_id: [151645, 151643], pad_token_id: 151643 })).toEqual({
      eosTokenIds: [151645, 151643],
      padTokenId: 151643,
    });
    expect(await readGenerationConfig(temporary())).toEqual({});
    expect(() => decodeGenerationConfig({ eos_token_id: "x" })).toThrow(/eos_token_id/);
  });
});

describe("full checkpoints", () => {
  let model: Qwen25VLModel;

  beforeAll(async () => {
    await useBackend("cpu");
    model = await loadQwen25VL(fixtureDirectory("image"));
  });

  afterAll(() => model.dispose());

  it("save → loadQwen25VL gives identical logits; load restores changed weights", async () => {
    const source = fixtureProcessorDirectory();
    const policy = createQwenVLPolicy({
      model,
      processor: await loadFixtureProcessor(),
      checkpointSourceDirectory: source,
    });
    const expected = logitsOf(model);
    const directory = join(temporary(), "step-1");
    await policy.save(directory);
    expect(readdirSync(directory).sort()).toEqual(
      [
        "config.json",
        "generation_config.json",
        "model.safetensors",
        "preprocessor_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
      ].sort(),
    );
    const reloaded = await loadQwen25VL(directory);
    expect(logitsOf(reloaded)).toEqual(expected);
    reloaded.dispose();
    const file = await SafetensorsFile.open(join(directory, "model.safetensors"));
    expect([...file.header.entries.keys()].sort()).toEqual([...image.weight_names].sort());
    expect(file.header.entries.get("visual.patch_embed.proj.weight")!.shape).toEqual([32, 3, 2, 14, 14]);
    await file.close();

    const norm = model.parameters.get("model.layers.0.input_layernorm.weight")!;
    norm.assign(tf.tidy(() => tf.mul(norm, 2)));
    expect(logitsOf(model)).not.toEqual(expected);
    await policy.load(directory);
    expect(logitsOf(model)).toEqual(expected);
    expect(existsSync(join(directory, "model.safetensors"))).toBe(true);

    // A checkpoint lacking a weight, or holding one of another shape, changes nothing.
    const partial = temporary();
    const embed = model.parameters.get("model.embed_tokens.weight")!;
    await writeSafetensors(join(partial, "model.safetensors"), [
      { name: "model.embed_tokens.weight", shape: embed.shape, values: () => new Float32Array(embed.size) },
    ]);
    await expect(policy.load(partial)).rejects.toThrow(MissingWeightError);
    await writeSafetensors(join(partial, "model.safetensors"), [
      ...image.weight_names.map((name) => ({
        name,
        shape: name === "model.norm.weight" ? [3] : model.parameters.get(name)!.shape,
        values: () => new Float32Array(name === "model.norm.weight" ? 3 : model.parameters.get(name)!.size),
      })),
    ]);
    await expect(policy.load(partial)).rejects.toThrow(WeightShapeError);
    expect(logitsOf(model)).toEqual(expected);
  });
});
