import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  decodeQwen25VLConfig,
  estimateQwen25VLMemory,
  Qwen25VLConfigError,
  visionDefaults,
} from "../../src/index.js";
import { textWeightSpecs, visionWeightSpecs } from "../../src/internal/model/weightSpec.js";
import { fixtureDirectory } from "./support/fixtures.js";

/** The published Qwen2.5-VL-3B-Instruct config.json (fields the model reads, plus some it ignores). */
const published3B = {
  architectures: ["Qwen2_5_VLForConditionalGeneration"],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  vision_start_token_id: 151652,
  vision_end_token_id: 151653,
  vision_token_id: 151654,
  image_token_id: 151655,
  video_token_id: 151656,
  hidden_act: "silu",
  hidden_size: 2048,
  initializer_range: 0.02,
  intermediate_size: 11008,
  max_position_embeddings: 128000,
  max_window_layers: 70,
  model_type: "qwen2_5_vl",
  num_attention_heads: 16,
  num_hidden_layers: 36,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: "bfloat16",
  transformers_version: "4.41.2",
  use_cache: true,
  use_sliding_window: false,
  vision_config: {
    depth: 32,
    hidden_act: "silu",
    hidden_size: 1280,
    intermediate_size: 3420,
    num_heads: 16,
    in_chans: 3,
    out_hidden_size: 2048,
    patch_size: 14,
    spatial_merge_size: 2,
    spatial_patch_size: 14,
    window_size: 112,
    fullatt_block_indexes: [7, 15, 23, 31],
    tokens_per_second: 2,
    temporal_patch_size: 2,
  },
  rope_scaling: { type: "mrope", mrope_section: [16, 24, 24] },
  vocab_size: 151936,
};

const count = (specs: ReadonlyArray<{ shape: ReadonlyArray<number> }>) =>
  specs.reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1), 0);

describe("decodeQwen25VLConfig", () => {
  it("reads the published 3B config and matches its parameter counts", () => {
    const config = decodeQwen25VLConfig(published3B);
    expect(config.text).toMatchObject({ headDim: 128, mropeSection: [16, 24, 24], tieWordEmbeddings: true });
    expect(config.vision).toMatchObject({
      hiddenSize: 1280,
      inChannels: 3,
      fullattBlockIndexes: [7, 15, 23, 31],
    });
    expect(config.tokens).toMatchObject({
      imageTokenId: 151655,
      visionStartTokenId: 151652,
      eosTokenIds: [151645],
    });
    expect(estimateQwen25VLMemory(config).parameterCount).toBe(3_754_622_976);
    // Per-module counts from the spec's torchinfo check.
    const vision = visionWeightSpecs(config);
    expect(count(vision.filter((s) => s.name.startsWith("visual.blocks.0.")))).toBe(19_702_200);
    expect(count(vision.filter((s) => s.name.startsWith("visual.merger.mlp.")))).toBe(36_707_328);
    expect(count(textWeightSpecs(config).filter((s) => s.name.startsWith("model.layers.0.")))).toBe(
      77_076_992,
    );
  });

  it("treats rope type mrope and default alike, and reads transformers 5 rope_parameters", () => {
    const fixture = JSON.parse(readFileSync(join(fixtureDirectory("image"), "config.json"), "utf8"));
    const asDefault = decodeQwen25VLConfig(fixture);
    const asMrope = decodeQwen25VLConfig({
      ...fixture,
      rope_scaling: { type: "mrope", mrope_section: [2, 3, 3] },
    });
    expect(asMrope).toEqual(asDefault);
    const { rope_scaling: _, rope_theta: __, ...rest } = fixture;
    const v5 = decodeQwen25VLConfig({
      ...rest,
      rope_parameters: { rope_type: "default", rope_theta: 1e6, mrope_section: [2, 3, 3] },
    });
    expect(v5).toEqual(asDefault);
  });

  it("reads text fields from a nested text_config", () => {
    const { hidden_size, num_hidden_layers, vocab_size, rope_scaling, ...rest } = published3B;
    const nested = decodeQwen25VLConfig({
      ...rest,
      text_config: { hidden_size, num_hidden_layers, vocab_size, rope_scaling, num_attention_heads: 16 },
    });
    expect(nested).toEqual(decodeQwen25VLConfig(published3B));
  });

  it("fills a minimal vision_config with the class defaults (hidden 1280, tokens_per_second 2)", () => {
    const config = decodeQwen25VLConfig({ ...published3B, vision_config: { out_hidden_size: 2048 } });
    expect(config.vision).toEqual({ ...visionDefaults, outHiddenSize: 2048 });
    expect(config.vision.hiddenSize).toBe(1280);
    const { vision_config: _, ...withoutVision } = published3B;
    const noVision = decodeQwen25VLConfig(withoutVision);
    expect(noVision.vision.outHiddenSize).toBe(2048);
  });

  it("names the offending field", () => {
    const bad = (json: unknown) => {
      try {
        decodeQwen25VLConfig(json);
      } catch (error) {
        expect(error).toBeInstanceOf(Qwen25VLConfigError);
        return (error as Qwen25VLConfigError).field;
      }
      throw new Error("expected a Qwen25VLConfigError");
    };
    expect(bad({ ...published3B, num_attention_heads: "16" })).toBe("num_attention_heads");
    expect(bad({ ...published3B, vision_config: { depth: -1 } })).toBe("vision_config.depth");
    expect(bad({ ...published3B, rope_scaling: { type: "mrope", mrope_section: [16, 24, 16] } })).toBe(
      "rope_scaling.mrope_section",
    );
    expect(bad({ ...published3B, rope_scaling: { type: "yarn", mrope_section: [16, 24, 24] } })).toBe(
      "rope_scaling.type",
    );
    expect(bad({ ...published3B, model_type: "qwen2_vl" })).toBe("model_type");
    expect(
      bad({ ...published3B, vision_config: { ...published3B.vision_config, out_hidden_size: 3584 } }),
    ).toBe("vision_config.out_hidden_size");
  });
});
