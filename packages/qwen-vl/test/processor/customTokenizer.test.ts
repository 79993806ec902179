import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ProcessorConfigError } from "../../src/processor/errors.js";
import { QWEN2_5_VL_IMAGE_PROCESSOR_CONFIG } from "../../src/processor/ImageProcessorConfig.js";
import { loadQwenVLProcessor } from "../../src/processor/QwenVLProcessor.js";

/** The special tokens a synthetic task's tokenizer must carry, at ids 100–105. */
const SPECIAL = [
  "<|endoftext|>",
  "<|im_start|>",
  "<|im_end|>",
  "<|vision_start|>",
  "<|vision_end|>",
  "<|image_pad|>",
];
const addedTokens = (names: ReadonlyArray<string>) =>
  names.map((content, i) => ({
    id: 100 + SPECIAL.indexOf(content) + (SPECIAL.includes(content) ? 0 : 50 + i),
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));

const wordLevel = (special: ReadonlyArray<string> = SPECIAL) => ({
  version: "1.0",
  truncation: null,
  padding: null,
  added_tokens: addedTokens(special),
  normalizer: null,
  pre_tokenizer: { type: "Whitespace" },
  post_processor: null,
  decoder: null,
  model: {
    type: "WordLevel",
    vocab: { "[UNK]": 0, how: 1, many: 2, dots: 3, "?": 4, system: 5, user: 6, assistant: 7, "3": 8 },
    unk_token: "[UNK]",
  },
});

const bpe = {
  version: "1.0",
  truncation: null,
  padding: null,
  added_tokens: addedTokens(SPECIAL),
  normalizer: null,
  pre_tokenizer: { type: "Whitespace" },
  post_processor: null,
  decoder: null,
  model: {
    type: "BPE",
    dropout: null,
    unk_token: "[UNK]",
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    fuse_unk: false,
    byte_fallback: false,
    vocab: { "[UNK]": 0, h: 1, e: 2, l: 3, o: 4, he: 5, ll: 6, hell: 7, hello: 8, u: 9, s: 10, r: 11 },
    merges: ["h e", "l l", "he ll", "hell o"],
  },
};

const directoryWith = (files: Record<string, unknown>): string => {
  const dir = mkdtempSync(join(tmpdir(), "qwen-vl-tokenizer-"));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === "string" ? content : JSON.stringify(content));
  }
  return dir;
};

const grey = (width: number, height: number) => ({
  width,
  height,
  data: new Uint8Array(width * height * 3).fill(90),
});

describe("loadQwenVLProcessor with a handmade tokenizer", () => {
  it("works with a WordLevel vocabulary and no preprocessor_config.json", async () => {
    const dir = directoryWith({
      "tokenizer.json": wordLevel(),
      "config.json": { image_token_id: 105, vision_start_token_id: 103, vision_end_token_id: 104 },
    });
    const processor = await loadQwenVLProcessor(dir);
    expect(processor.imageProcessorConfig).toEqual(QWEN2_5_VL_IMAGE_PROCESSOR_CONFIG);
    expect(processor.specialTokens).toEqual({
      endOfText: 100,
      imStart: 101,
      imEnd: 102,
      visionStart: 103,
      visionEnd: 104,
      imagePad: 105,
    });
    const encoded = processor.encode(
      [
        {
          role: "user",
          content: [
            { type: "image", image: "unused.png" },
            { type: "text", text: "how many dots?" },
          ],
        },
      ],
      [grey(56, 84)],
    );
    // system: <|im_start|> system You are a helpful assistant . <|im_end|> — words outside the vocabulary
    // are [UNK] (0), "assistant" is 7; user: <|im_start|> user <|vision_start|> 6 × <|image_pad|>
    // (56 wide × 84 tall → grid 1×6×4 → 24/4) <|vision_end|> how many dots ? <|im_end|>; then <|im_start|> assistant.
    const system = [101, 5, 0, 0, 0, 0, 7, 0, 102];
    const user = [101, 6, 103, ...Array(6).fill(105), 104, 1, 2, 3, 4, 102];
    expect(Array.from(encoded.inputIds)).toEqual([...system, ...user, 101, 7]);
    expect(encoded.imageGridThw).toEqual([[1, 6, 4]]);
    // WordLevel has no decoder: tokens are joined by spaces, and without a tokenizer_config the
    // tokenization-space clean-up is on (" ?" → "?"), as in HF.
    expect(processor.decode(encoded.inputIds.slice(-10), { skipSpecialTokens: true })).toBe(
      "how many dots? assistant",
    );
  });

  it("works with a BPE vocabulary and honours pixel options", async () => {
    const processor = await loadQwenVLProcessor(directoryWith({ "tokenizer.json": bpe }), {
      maxPixels: 56 * 56,
    });
    // "hello" merges h·e → he, l·l → ll, he·ll → hell, hell·o → hello; "hole" has no applicable merge.
    expect(processor.tokenizer.encode("hello hole")).toEqual([8, 1, 4, 3, 2]);
    const encoded = processor.encodeText("hello<|image_pad|>", [grey(300, 200)]);
    // β = √(200·300/3136) = 4.374: ⌊200/4.374/28⌋·28 = 28, ⌊300/4.374/28⌋·28 = 56 → grid [1, 2, 4], 2 tokens
    expect(encoded.imageGridThw).toEqual([[1, 2, 4]]);
    expect(Array.from(encoded.inputIds)).toEqual([8, 105, 105]);
    expect(processor.imageProcessorConfig.maxPixels).toBe(56 * 56);
  });

  it("uses the directory's chat template before the built-in one", async () => {
    const dir = directoryWith({
      "tokenizer.json": wordLevel(),
      "tokenizer_config.json": {
        chat_template:
          "{% for m in messages %}<|im_start|>{{ m['role'] }} {{ m['content'] }}<|im_end|>{% endfor %}",
      },
    });
    const processor = await loadQwenVLProcessor(dir);
    expect(processor.applyChatTemplate([{ role: "user", content: "how many" }])).toBe(
      "<|im_start|>user how many<|im_end|>",
    );
    expect(processor.chatTemplate.source).toBe(join(dir, "tokenizer_config.json"));
    const overridden = await loadQwenVLProcessor(dir, { chatTemplate: "{{ messages[0]['content'] }}!" });
    expect(overridden.applyChatTemplate([{ role: "user", content: "dots" }])).toBe("dots!");
  });

  it("names a missing special token, a malformed file and a bad pixel budget", async () => {
    const noPad = directoryWith({
      "tokenizer.json": wordLevel(SPECIAL.filter((t) => t !== "<|image_pad|>")),
    });
    await expect(loadQwenVLProcessor(noPad)).rejects.toThrow(ProcessorConfigError);
    await expect(loadQwenVLProcessor(noPad)).rejects.toThrow(/<\|image_pad\|> as an added token/);
    const noUnknown = { ...wordLevel(), model: { ...wordLevel().model, unk_token: null } };
    const strict = await loadQwenVLProcessor(directoryWith({ "tokenizer.json": noUnknown }));
    expect(strict.tokenizer.encode("how many")).toEqual([1, 2]);
    expect(() => strict.tokenizer.encode("how many cats")).toThrow(
      /token 2 of the text is not in the vocabulary/,
    );
    const broken = directoryWith({ "tokenizer.json": "{ not json" });
    await expect(loadQwenVLProcessor(broken)).rejects.toThrow(/tokenizer\.json.*not valid JSON/);
    const badConfig = directoryWith({
      "tokenizer.json": wordLevel(),
      "preprocessor_config.json": { merge_size: 0 },
    });
    await expect(loadQwenVLProcessor(badConfig)).rejects.toThrow(/preprocessor_config\.json.*merge_size/);
    const dir = directoryWith({ "tokenizer.json": wordLevel() });
    await expect(loadQwenVLProcessor(dir, { minPixels: 5000, maxPixels: 4000 })).rejects.toThrow(/minPixels/);
    // the fixture model's config.json (image token 500) with a tokenizer whose <|image_pad|> is 105
    const mismatched = directoryWith({
      "tokenizer.json": wordLevel(),
      "config.json": { image_token_id: 500 },
    });
    await expect(loadQwenVLProcessor(mismatched)).rejects.toThrow(/image_token_id.*500.*105/);
  });
});
