import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GenerationRequest } from "@apo-rl/core";
import { loadQwenVLProcessor, type QwenVLProcessorShape } from "../../../src/index.js";
import { fixtureDirectory, loadFixture } from "../../model/support/fixtures.js";

/**
 * Special tokens of the fixture model's config (image 500, vision_start 502, vision_end 503, eos 505)
 * plus the chat tokens, as added tokens of a WordLevel tokenizer whose word `w<i>` is id `i`.
 */
const SPECIAL: Record<string, number> = {
  "<|image_pad|>": 500,
  "<|video_pad|>": 501,
  "<|vision_start|>": 502,
  "<|vision_end|>": 503,
  "<|endoftext|>": 504,
  "<|im_end|>": 505,
  "<|im_start|>": 506,
};

const tokenizerJson = () => ({
  version: "1.0",
  truncation: null,
  padding: null,
  added_tokens: Object.entries(SPECIAL).map(([content, id]) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  })),
  normalizer: null,
  pre_tokenizer: { type: "WhitespaceSplit" },
  post_processor: null,
  decoder: null,
  model: {
    type: "WordLevel",
    vocab: Object.fromEntries([...Array.from({ length: 499 }, (_, id) => [`w${id}`, id]), ["[UNK]", 499]]),
    unk_token: "[UNK]",
  },
});

/** A template that renders the user's parts verbatim: text as is, an image as its three vision tokens. */
export const PLAIN_TEMPLATE =
  "{% for message in messages %}{% if message.content is string %}{{ message.content }}{% else %}" +
  "{% for part in message.content %}{% if part.type == 'image' %} <|vision_start|><|image_pad|><|vision_end|> " +
  "{% else %}{{ part.text }}{% endif %}{% endfor %}{% endif %}{% endfor %}";

/** A processor directory for the fixture model: WordLevel tokenizer, its config and preprocessor config. */
export const fixtureProcessorDirectory = (): string => {
  const directory = mkdtempSync(join(tmpdir(), "qwen-vl-policy-"));
  writeFileSync(join(directory, "tokenizer.json"), JSON.stringify(tokenizerJson()));
  writeFileSync(join(directory, "tokenizer_config.json"), JSON.stringify({ pad_token: "<|endoftext|>" }));
  for (const name of ["config.json", "preprocessor_config.json", "generation_config.json"]) {
    copyFileSync(join(fixtureDirectory("image"), name), join(directory, name));
  }
  return directory;
};

export const loadFixtureProcessor = (): Promise<QwenVLProcessorShape> =>
  loadQwenVLProcessor(fixtureProcessorDirectory(), {
    chatTemplate: PLAIN_TEMPLATE,
    imageDirectory: fixtureDirectory("image"),
  });

const words = (ids: ReadonlyArray<number>) => ids.map((id) => `w${id}`).join(" ");

/** The image fixture's prompt as a chat request: its text tokens around `image.png`. */
export const imageRequest = (promptId = "image"): GenerationRequest => {
  const ids = loadFixture("image").inputs.input_ids;
  const start = ids.indexOf(502);
  const end = ids.indexOf(503);
  return {
    promptId,
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: words(ids.slice(0, start)) },
          { type: "image", image: "image.png" },
          { type: "text", text: words(ids.slice(end + 1)) },
        ],
      },
    ],
  };
};

/** The text-only fixture's prompt as a chat request. */
export const textRequest = (promptId = "text"): GenerationRequest => ({
  promptId,
  messages: [{ role: "user", content: words(loadFixture("text_only").inputs.input_ids) }],
});
