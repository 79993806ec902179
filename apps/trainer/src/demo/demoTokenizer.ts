import { possibleCountingAnswers, possibleCountingPrompts } from "@apo-rl/datasets";

/**
 * The Qwen2.5-VL special tokens of the demo tokenizer, with their ids (the first ids of the
 * vocabulary): every prompt and turn boundary the Qwen2.5-VL prompt format needs.
 *
 * @since 0.1.0
 * @category demo
 */
export const DEMO_SPECIAL_TOKENS = [
  "<|endoftext|>",
  "<|im_start|>",
  "<|im_end|>",
  "<|vision_start|>",
  "<|vision_end|>",
  "<|image_pad|>",
  "<|video_pad|>",
] as const;

/**
 * The View-R1 format tags, added as whole (non-special) tokens so that decoding keeps them.
 *
 * @since 0.1.0
 * @category demo
 */
export const DEMO_FORMAT_TOKENS = ["<think>", "</think>", "<answer>", "</answer>"] as const;

/** Words the chat template and the demo responses use besides the questions. */
const EXTRA_WORDS = ["user", "assistant", "system", "count", "the", "shapes", "and"];

/** Splits as the tokenizer's `Whitespace` pre-tokenizer does: runs of word characters, runs of other non-space characters. */
const words = (text: string): ReadonlyArray<string> => text.match(/\w+|[^\w\s]+/g) ?? [];

/**
 * The demo vocabulary: `[UNK]`, then every word of every prompt of the synthetic counting task
 * (both variants, every colour), the digits 0–9 and every possible answer, and the words of the
 * responses and chat template, in first-seen order.
 *
 * @since 0.1.0
 * @category demo
 */
export const demoVocabulary = (): ReadonlyArray<string> => {
  const options = { variant: "mixed", difficulty: 1 } as const;
  const texts = [
    ...possibleCountingPrompts(options),
    ...Array.from({ length: 10 }, (_, digit) => String(digit)),
    ...possibleCountingAnswers(options),
    ...EXTRA_WORDS,
  ];
  return [...new Set(["[UNK]", ...texts.flatMap(words)])];
};

const addedToken = (content: string, id: number, special: boolean) => ({
  id,
  content,
  single_word: false,
  lstrip: false,
  rstrip: false,
  normalized: false,
  special,
});

/**
 * The demo's `tokenizer.json`: a Hugging Face WordLevel tokenizer with a `Whitespace`
 * pre-tokenizer over {@link demoVocabulary}, the Qwen special tokens at ids 0–6 and the format
 * tags after them. Decoding joins tokens with spaces.
 *
 * @since 0.1.0
 * @category demo
 */
export const demoTokenizerJson = () => {
  const added = [
    ...DEMO_SPECIAL_TOKENS.map((token, index) => addedToken(token, index, true)),
    ...DEMO_FORMAT_TOKENS.map((token, index) => addedToken(token, DEMO_SPECIAL_TOKENS.length + index, false)),
  ];
  const first = added.length;
  const vocabulary = Object.fromEntries([
    ...added.map((token) => [token.content, token.id] as const),
    ...demoVocabulary().map((word, index) => [word, first + index] as const),
  ]);
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: "Whitespace" },
    post_processor: null,
    decoder: null,
    model: { type: "WordLevel", vocab: vocabulary, unk_token: "[UNK]" },
  };
};
