import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEMO_FORMAT_TOKENS, DEMO_SPECIAL_TOKENS, demoTokenizerJson } from "./demoTokenizer.js";

/**
 * The demo's compact chat template: Qwen2.5-VL's turn format (`<|im_start|>role\n…<|im_end|>\n`, one
 * `<|vision_start|><|image_pad|><|vision_end|>` per image, the `<|im_start|>assistant\n` generation
 * prompt) without the default system prompt.
 *
 * @since 0.1.0
 * @category demo
 */
export const DEMO_CHAT_TEMPLATE =
  "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

const tokenId = (token: string): number => {
  const special = DEMO_SPECIAL_TOKENS.indexOf(token as (typeof DEMO_SPECIAL_TOKENS)[number]);
  if (special >= 0) return special;
  return (
    DEMO_SPECIAL_TOKENS.length + DEMO_FORMAT_TOKENS.indexOf(token as (typeof DEMO_FORMAT_TOKENS)[number])
  );
};

/**
 * The demo model's `config.json`: a Qwen2.5-VL of the real architecture at toy size — a 2-layer
 * decoder of width 96 with grouped-query attention (4 query heads, 2 key/value heads, M-RoPE
 * sections 4/4/4) and a 2-block vision tower of width 64 (one windowed block, one full-attention
 * block), tied embeddings, and the demo tokenizer's vocabulary and special token ids. A 56×56
 * image is 4×4 patches of 14 px, merged 2×2 into 4 image tokens.
 *
 * @since 0.1.0
 * @category demo
 */
export const demoModelConfig = (vocabularySize: number) => ({
  architectures: ["Qwen2_5_VLForConditionalGeneration"],
  model_type: "qwen2_5_vl",
  hidden_act: "silu",
  hidden_size: 96,
  intermediate_size: 256,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  rope_scaling: { type: "mrope", rope_type: "default", mrope_section: [4, 4, 4] },
  max_position_embeddings: 256,
  tie_word_embeddings: true,
  use_sliding_window: false,
  torch_dtype: "float32",
  vocab_size: vocabularySize,
  bos_token_id: null,
  eos_token_id: [tokenId("<|im_end|>"), tokenId("<|endoftext|>")],
  pad_token_id: tokenId("<|endoftext|>"),
  image_token_id: tokenId("<|image_pad|>"),
  video_token_id: tokenId("<|video_pad|>"),
  vision_start_token_id: tokenId("<|vision_start|>"),
  vision_end_token_id: tokenId("<|vision_end|>"),
  vision_config: {
    depth: 2,
    hidden_size: 64,
    intermediate_size: 128,
    num_heads: 4,
    hidden_act: "silu",
    in_channels: 3,
    patch_size: 14,
    temporal_patch_size: 2,
    spatial_merge_size: 2,
    window_size: 56,
    fullatt_block_indexes: [1],
    out_hidden_size: 96,
    tokens_per_second: 2,
  },
});

/**
 * The demo's `preprocessor_config.json`: Qwen2.5-VL's image normalisation with a pixel budget of
 * exactly 56×56 (every image is resized to 4 image tokens).
 *
 * @since 0.1.0
 * @category demo
 */
export const demoPreprocessorConfig = () => ({
  image_processor_type: "Qwen2VLImageProcessor",
  do_resize: true,
  do_rescale: true,
  do_normalize: true,
  do_convert_rgb: true,
  rescale_factor: 1 / 255,
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_std: [0.26862954, 0.26130258, 0.27577711],
  min_pixels: 56 * 56,
  max_pixels: 56 * 56,
  patch_size: 14,
  temporal_patch_size: 2,
  merge_size: 2,
});

/**
 * The demo's `tokenizer_config.json`.
 *
 * @since 0.1.0
 * @category demo
 */
export const demoTokenizerConfig = () => ({
  tokenizer_class: "PreTrainedTokenizerFast",
  eos_token: "<|im_end|>",
  pad_token: "<|endoftext|>",
  unk_token: "[UNK]",
  clean_up_tokenization_spaces: true,
  model_max_length: 256,
});

/**
 * Every file of the demo's base directory (the model architecture, tokenizer, chat template and
 * image processor; no weights), by file name, as JSON or text.
 *
 * @since 0.1.0
 * @category demo
 */
export const demoAssetFiles = (): Readonly<Record<string, string>> => {
  const tokenizer = demoTokenizerJson();
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  return {
    "config.json": json(demoModelConfig(Object.keys(tokenizer.model.vocab).length)),
    "tokenizer.json": json(tokenizer),
    "tokenizer_config.json": json(demoTokenizerConfig()),
    "chat_template.jinja": DEMO_CHAT_TEMPLATE,
    "preprocessor_config.json": json(demoPreprocessorConfig()),
  };
};

/**
 * Write {@link demoAssetFiles} into `directory` (created if needed).
 *
 * @since 0.1.0
 * @category demo
 */
export const writeDemoAssets = async (directory: string): Promise<void> => {
  await mkdir(directory, { recursive: true });
  for (const [name, content] of Object.entries(demoAssetFiles()))
    await writeFile(join(directory, name), content);
};

/**
 * The trainer package's `assets/` directory: found by walking up from this module to the directory
 * whose `package.json` is `@apo-rl/trainer` (works from the sources and from the bundled `dist/`).
 *
 * @since 0.1.0
 * @category demo
 */
export const trainerAssetsDirectory = (): string => {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(directory, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "@apo-rl/trainer")
      return join(directory, "assets");
    const parent = dirname(directory);
    if (parent === directory) throw new Error("cannot find the @apo-rl/trainer package directory (assets/)");
    directory = parent;
  }
};

/**
 * `assets/demo`: the demo's base directory (architecture, tokenizer, template; no weights).
 *
 * @since 0.1.0
 * @category demo
 */
export const demoBaseDirectory = (): string => join(trainerAssetsDirectory(), "demo");

/**
 * `assets/demo-sft`: the committed SFT checkpoint the demo starts from.
 *
 * @since 0.1.0
 * @category demo
 */
export const demoCheckpointDirectory = (): string => join(trainerAssetsDirectory(), "demo-sft");
