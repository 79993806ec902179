import type { Qwen25VLConfig } from "../config/Qwen25VLConfig.js";

/**
 * A Hugging Face `config.json` (Qwen2.5-VL, transformers ≤ 4.51 layout) for a resolved config:
 * `decodeQwen25VLConfig(qwen25VLConfigJson(config))` gives `config` back.
 *
 * @since 0.1.0
 * @category checkpoints
 */
export const qwen25VLConfigJson = (config: Qwen25VLConfig): Record<string, unknown> => {
  const { text, vision, tokens } = config;
  const eos = tokens.eosTokenIds;
  return {
    architectures: ["Qwen2_5_VLForConditionalGeneration"],
    model_type: "qwen2_5_vl",
    torch_dtype: "float32",
    vocab_size: text.vocabSize,
    hidden_size: text.hiddenSize,
    intermediate_size: text.intermediateSize,
    num_hidden_layers: text.numHiddenLayers,
    num_attention_heads: text.numAttentionHeads,
    num_key_value_heads: text.numKeyValueHeads,
    hidden_act: "silu",
    rms_norm_eps: text.rmsNormEps,
    rope_theta: text.ropeTheta,
    rope_scaling: { type: "mrope", mrope_section: [...text.mropeSection] },
    max_position_embeddings: text.maxPositionEmbeddings,
    tie_word_embeddings: text.tieWordEmbeddings,
    use_sliding_window: false,
    attention_dropout: 0,
    image_token_id: tokens.imageTokenId,
    video_token_id: tokens.videoTokenId,
    vision_start_token_id: tokens.visionStartTokenId,
    vision_end_token_id: tokens.visionEndTokenId,
    ...(tokens.bosTokenId === undefined ? {} : { bos_token_id: tokens.bosTokenId }),
    ...(eos.length === 0 ? {} : { eos_token_id: eos.length === 1 ? eos[0] : [...eos] }),
    vision_config: {
      model_type: "qwen2_5_vl",
      depth: vision.depth,
      hidden_size: vision.hiddenSize,
      intermediate_size: vision.intermediateSize,
      num_heads: vision.numHeads,
      hidden_act: "silu",
      in_channels: vision.inChannels,
      patch_size: vision.patchSize,
      temporal_patch_size: vision.temporalPatchSize,
      spatial_merge_size: vision.spatialMergeSize,
      window_size: vision.windowSize,
      fullatt_block_indexes: [...vision.fullattBlockIndexes],
      out_hidden_size: vision.outHiddenSize,
      tokens_per_second: vision.tokensPerSecond,
    },
  };
};
