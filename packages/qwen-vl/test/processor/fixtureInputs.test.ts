import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { loadQwenVLProcessor } from "../../src/processor/QwenVLProcessor.js";

const fixtureDir = fileURLToPath(new URL("../fixtures-processor/", import.meta.url));
const fixture = JSON.parse(readFileSync(join(fixtureDir, "fixture.json"), "utf8")) as {
  inputs: { input_ids: ReadonlyArray<number>; image_grid_thw: ReadonlyArray<ReadonlyArray<number>> };
  config: Record<string, number>;
};

/**
 * The fixture model has no tokenizer: its prompt is 4 text ids, the vision block, 3 text ids. A WordLevel
 * vocabulary that names those ids, with the fixture's special ids (config.json: image 500,
 * vision_start 502, vision_end 503, bos 504, eos 505), reproduces the prompt from text.
 */
const tokenizerFor = (ids: ReadonlyArray<number>) => {
  const words = ["a", "b", "c", "d", "e", "f", "g"];
  const textIds = [...ids.slice(0, 4), ...ids.slice(-3)];
  const special: Record<string, number> = {
    "<|image_pad|>": fixture.config["image_token_id"]!,
    "<|video_pad|>": fixture.config["video_token_id"]!,
    "<|vision_start|>": fixture.config["vision_start_token_id"]!,
    "<|vision_end|>": fixture.config["vision_end_token_id"]!,
    "<|endoftext|>": fixture.config["bos_token_id"]!,
    "<|im_end|>": fixture.config["eos_token_id"]!,
    "<|im_start|>": 506,
  };
  return {
    version: "1.0",
    added_tokens: Object.entries(special).map(([content, id]) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: "Whitespace" },
    post_processor: null,
    decoder: null,
    model: {
      type: "WordLevel",
      vocab: Object.fromEntries([["[UNK]", 0], ...words.map((word, i) => [word, textIds[i]!])]),
      unk_token: "[UNK]",
    },
  };
};

describe("the fixture model's inputs from text and image.png", () => {
  it("reproduces input_ids, image_grid_thw and pixel_values of the HF fixture", async () => {
    const dir = mkdtempSync(join(tmpdir(), "qwen-vl-fixture-inputs-"));
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tokenizerFor(fixture.inputs.input_ids)));
    writeFileSync(join(dir, "config.json"), JSON.stringify(fixture.config));
    writeFileSync(
      join(dir, "preprocessor_config.json"),
      readFileSync(join(fixtureDir, "preprocessor_config.json")),
    );
    const processor = await loadQwenVLProcessor(dir);
    const encoded = processor.encodeText("a b c d<|vision_start|><|image_pad|><|vision_end|>e f g", [
      join(fixtureDir, "image.png"),
    ]);
    expect(Array.from(encoded.inputIds)).toEqual(fixture.inputs.input_ids);
    expect(encoded.imageGridThw).toEqual(fixture.inputs.image_grid_thw);
    const bytes = gunzipSync(readFileSync(join(fixtureDir, "pixel_values.f32.gz")));
    expect(Buffer.from(encoded.pixelValues.buffer).equals(bytes)).toBe(true);
  });
});
