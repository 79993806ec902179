import { readFileSync } from "node:fs";
import { join } from "node:path";
import { possibleCountingAnswers, possibleCountingPrompts, syntheticCountingTask } from "@apo-rl/datasets";
import { loadQwenVLProcessor, readQwen25VLConfig } from "@apo-rl/qwen-vl";
import { counting, format } from "@apo-rl/rewards";
import { describe, expect, it } from "vitest";
import { demoAssetFiles, demoBaseDirectory } from "../src/demo/demoAssets.js";
import { demoResponse, promptText } from "../src/demo/demoResponse.js";

const options = { variant: "mixed", difficulty: 1 } as const;

describe("demo assets", () => {
  it("the committed base directory is exactly what the builders produce", () => {
    for (const [name, content] of Object.entries(demoAssetFiles()))
      expect(readFileSync(join(demoBaseDirectory(), name), "utf8"), name).toBe(content);
  });

  it("the tokenizer round-trips every prompt, answer and demo response without unknown words", async () => {
    const processor = await loadQwenVLProcessor(demoBaseDirectory());
    const unknown = processor.tokenizer.tokenToId("[UNK]");
    const texts = [
      ...possibleCountingPrompts(options),
      ...possibleCountingAnswers(options),
      ...possibleCountingPrompts(options).flatMap((prompt) =>
        possibleCountingAnswers(options).map((answer) => demoResponse(prompt, answer)),
      ),
    ];
    expect(texts.length).toBeGreaterThan(100);
    for (const text of texts) {
      const ids = processor.tokenizer.encode(text);
      expect(ids, text).not.toContain(unknown);
      expect(processor.decode(ids, { skipSpecialTokens: true }), text).toBe(text);
    }
  });

  it("a response decodes to text the View-R1 format and counting verifiers accept", async () => {
    const processor = await loadQwenVLProcessor(demoBaseDirectory());
    const ids = [...processor.tokenizer.encode(demoResponse("How many red shapes are there?", "4"))];
    // the tags are single tokens: <think> count the red shapes </think> <answer> 4 </answer>
    expect(ids).toHaveLength(9);
    const text = processor.decode([...ids, processor.specialTokens.imEnd], { skipSpecialTokens: true });
    expect(text).toBe("<think> count the red shapes </think> <answer> 4 </answer>");
    expect(format().verify(text, "4").reward).toBe(1);
    expect(counting().verify(text, "4").correct).toBe(true);
    expect(counting().verify(text, "3").correct).toBe(false);
  });

  it("encodes a synthetic item as a short prompt with 4 image tokens", async () => {
    const processor = await loadQwenVLProcessor(demoBaseDirectory());
    const item = syntheticCountingTask({ trainSize: 1, heldOutSize: 0 }).train[0]!;
    const encoded = processor.encode(item.messages, item.images);
    const special = processor.specialTokens;
    expect(encoded.imageGridThw).toEqual([[1, 4, 4]]);
    const ids = Array.from(encoded.inputIds);
    expect(ids.filter((id) => id === special.imagePad)).toHaveLength(4);
    // <|im_start|> user <|vision_start|> 4 × pad <|vision_end|> How many <colour> shapes are there ? <|im_end|> <|im_start|> assistant
    expect(ids).toHaveLength(18);
    expect(ids.slice(0, 3)).toEqual([
      special.imStart,
      processor.tokenizer.tokenToId("user"),
      special.visionStart,
    ]);
    expect(ids.slice(-2)).toEqual([special.imStart, processor.tokenizer.tokenToId("assistant")]);
    expect(processor.decode(ids.slice(8, -3))).toBe(promptText(item.messages));
  });

  it("the model config agrees with the tokenizer", async () => {
    const config = await readQwen25VLConfig(demoBaseDirectory());
    const processor = await loadQwenVLProcessor(demoBaseDirectory());
    const vocabulary = JSON.parse(readFileSync(join(demoBaseDirectory(), "tokenizer.json"), "utf8")).model
      .vocab as Record<string, number>;
    // ids 0 … V−1, each used once, and V is the model's vocabulary size
    const ids = Object.values(vocabulary).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, id) => id));
    expect(config.text.vocabSize).toBe(ids.length);
    expect(config.tokens.imageTokenId).toBe(processor.specialTokens.imagePad);
    expect(config.tokens.eosTokenIds).toEqual([
      processor.specialTokens.imEnd,
      processor.specialTokens.endOfText,
    ]);
  });

  it("demoResponse rejects a question of another task", () => {
    expect(() => demoResponse("What colour is the sky?", "blue")).toThrow(
      /not a synthetic counting question/,
    );
  });
});
