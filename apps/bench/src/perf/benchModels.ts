import { decodeQwen25VLConfig, type Qwen25VLConfig } from "@apo-rl/qwen-vl";

/**
 * Qwen2.5-0.5B's text shape as `config.json` fields (896 wide, 24 layers, 14/2 heads, 4864 MLP,
 * tied 151,936 vocabulary), shared by the perf suites (`model`, `generate`, `train-step`).
 *
 * @since 0.2.0
 * @category perf
 */
export const qwen05BTextJson = {
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  vocab_size: 151_936,
  tie_word_embeddings: true,
  rope_scaling: { type: "mrope", mrope_section: [8, 12, 12] },
  vision_config: { out_hidden_size: 896 },
} as const;

/**
 * {@link qwen05BTextJson} decoded, with extra fields (e.g. a tokenizer's special-token ids) on top.
 *
 * @since 0.2.0
 * @category perf
 */
export const qwen05BConfig = (extra: Readonly<Record<string, unknown>> = {}): Qwen25VLConfig =>
  decodeQwen25VLConfig({ ...qwen05BTextJson, ...extra });

/**
 * The text decoder of Qwen2.5-VL-3B-Instruct's `config.json` (2048 wide, 36 layers, 16/2 heads,
 * 11008 MLP, tied 151,936 vocabulary: 3.1 B parameters with the embedding).
 *
 * @since 0.2.0
 * @category perf
 */
export const qwen3BTextJson = {
  hidden_size: 2048,
  intermediate_size: 11008,
  num_hidden_layers: 36,
  num_attention_heads: 16,
  num_key_value_heads: 2,
  vocab_size: 151_936,
  tie_word_embeddings: true,
  rope_scaling: { type: "mrope", mrope_section: [16, 24, 24] },
  vision_config: { out_hidden_size: 2048 },
} as const;

/**
 * {@link qwen3BTextJson} decoded, with extra fields on top.
 *
 * @since 0.2.0
 * @category perf
 */
export const qwen3BConfig = (extra: Readonly<Record<string, unknown>> = {}): Qwen25VLConfig =>
  decodeQwen25VLConfig({ ...qwen3BTextJson, ...extra });
