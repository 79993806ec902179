import { readFileSync } from "node:fs";
import { join } from "node:path";
import { initBackend } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  decodeQwen25VLConfig,
  huggingFaceDefaults,
  loadQwen25VL,
  NonFiniteWeightError,
  Qwen25VLConfigError,
  readQwen25VLConfig,
} from "../../src/index.js";
import { fixtureDirectory } from "./support/fixtures.js";
import {
  encodeSafetensors,
  type RawTensor,
  readAllTensors,
  temporaryDirectory,
  writeFile,
} from "./support/safetensors.js";

const fixtureConfig = JSON.parse(
  readFileSync(join(fixtureDirectory("image"), "config.json"), "utf8"),
) as Record<string, unknown>;

/** The field a checkpoint config.json fails at (read as a checkpoint's: fields required). */
const failingField = async (config: Record<string, unknown>): Promise<string> => {
  const directory = temporaryDirectory();
  writeFile(directory, "config.json", JSON.stringify(config));
  const error = await readQwen25VLConfig(directory).then(
    () => undefined,
    (cause: unknown) => cause,
  );
  expect(error).toBeInstanceOf(Qwen25VLConfigError);
  return (error as Qwen25VLConfigError).field;
};

const without = (key: string): Record<string, unknown> => {
  const { [key]: _, ...rest } = fixtureConfig;
  return rest;
};

describe("a checkpoint's config.json", () => {
  it("names exactly the missing field", async () => {
    for (const field of [
      "hidden_size",
      "vocab_size",
      "intermediate_size",
      "num_hidden_layers",
      "num_attention_heads",
      "num_key_value_heads",
      "rope_theta",
      "rms_norm_eps",
    ])
      expect(await failingField(without(field)), field).toBe(field);
    const { vocab_size, hidden_size, ...rest } = fixtureConfig;
    expect(await failingField({ ...rest, text_config: { vocab_size } })).toBe("text_config.hidden_size");
  });

  it("rejects a missing image_token_id whose Hugging Face default lies outside the vocabulary", async () => {
    const directory = temporaryDirectory();
    writeFile(directory, "config.json", JSON.stringify(without("image_token_id")));
    await expect(readQwen25VLConfig(directory)).rejects.toThrow(
      `image_token_id: missing, and Hugging Face's default ${huggingFaceDefaults.image_token_id} lies outside the vocabulary of ${fixtureConfig["vocab_size"]} tokens`,
    );
  });

  it("takes Hugging Face's class defaults where the file omits a defaulted field", () => {
    const { tie_word_embeddings: _, max_position_embeddings: __, ...rest } = fixtureConfig;
    const config = decodeQwen25VLConfig({ ...rest, vocab_size: 152_064 }, "config.json", {
      requireModelFields: true,
    });
    expect(config.text.tieWordEmbeddings).toBe(false);
    expect(config.text.maxPositionEmbeddings).toBe(32768);
    const { image_token_id: ___, ...noImage } = rest;
    expect(
      decodeQwen25VLConfig({ ...noImage, vocab_size: 152_064 }, "config.json", { requireModelFields: true })
        .tokens.imageTokenId,
    ).toBe(151655);
    // Configs built in code keep the lenient defaults.
    expect(decodeQwen25VLConfig(without("rope_theta")).text.ropeTheta).toBe(1_000_000);
  });
});

describe("non-finite weights", () => {
  let tensors: RawTensor[];
  beforeAll(async () => {
    await initBackend("cpu");
    tensors = await readAllTensors(join(fixtureDirectory("image"), "model.safetensors"));
  });

  it("fail the load naming the tensor, and leak nothing", async () => {
    const poisoned = tensors.map((tensor) => {
      if (tensor.name !== "model.layers.1.mlp.up_proj.weight") return tensor;
      const bytes = tensor.bytes.slice();
      new DataView(bytes.buffer).setFloat32(4 * 5, Number.NaN, true);
      return { ...tensor, bytes };
    });
    expect(tensors.find((tensor) => tensor.name === "model.layers.1.mlp.up_proj.weight")?.dtype).toBe("F32");
    const directory = temporaryDirectory();
    writeFile(directory, "config.json", JSON.stringify(fixtureConfig));
    writeFile(directory, "model.safetensors", encodeSafetensors(poisoned));
    const before = tf.memory().numTensors;
    const error = await loadQwen25VL(directory).then(
      () => undefined,
      (cause: unknown) => cause,
    );
    expect(error).toBeInstanceOf(NonFiniteWeightError);
    expect((error as NonFiniteWeightError).tensor).toBe("model.layers.1.mlp.up_proj.weight");
    expect((error as NonFiniteWeightError).index).toBe(5);
    expect((error as Error).message).toContain('"model.layers.1.mlp.up_proj.weight"');
    expect(tf.memory().numTensors).toBe(before);
  });
});
