import { decodeQwen25VLConfig, type GenerationPrompt, type Qwen25VLConfig } from "../../../src/index.js";

/**
 * A tiny Qwen2.5-VL config for tests that need every part of the architecture (grouped-query
 * attention, mRoPE, a two-block vision tower with one full-attention block) at a size where a
 * gradient check runs in milliseconds: 32 wide, `layers` decoder layers, a 64-token vocabulary with
 * the image tokens at 60–62.
 */
export const tinyQwenConfig = (layers: number): Qwen25VLConfig =>
  decodeQwen25VLConfig({
    hidden_size: 32,
    intermediate_size: 48,
    num_hidden_layers: layers,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    vocab_size: 64,
    image_token_id: 60,
    vision_start_token_id: 61,
    vision_end_token_id: 62,
    rope_scaling: { type: "mrope", mrope_section: [1, 1, 2] },
    vision_config: {
      depth: 2,
      hidden_size: 16,
      intermediate_size: 24,
      num_heads: 2,
      out_hidden_size: 32,
      fullatt_block_indexes: [1],
    },
  });

/**
 * A prompt of text around one 4 × 4-patch image (16 patches of 1176 values, a 2 × 2 grid of
 * merged tokens) for a {@link tinyQwenConfig} model.
 */
export const tinyImagePrompt = (config: Qwen25VLConfig): GenerationPrompt => {
  const image = config.tokens.imageTokenId;
  return {
    inputIds: [
      5,
      config.tokens.visionStartTokenId,
      image,
      image,
      image,
      image,
      config.tokens.visionEndTokenId,
      13,
      2,
    ],
    pixelValues: new Float32Array(16 * 1176).map((_, i) => Math.cos(i * 0.37)),
    imageGridThw: [[1, 4, 4]],
  };
};
