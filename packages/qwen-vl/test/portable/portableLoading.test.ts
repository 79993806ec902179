import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CheckpointFileError,
  decodeImage,
  encodeSafetensors,
  ImageDecodeError,
  loadQwen25VL,
  loadQwen25VLFromBytes,
  loadQwen25VLFromUrl,
  loadRawImage,
  makePortableQwenVLProcessor,
  makeQwenVLProcessor,
  type Qwen25VLModel,
  qwen25VLSafetensorsBytes,
  SafetensorsBytes,
  SafetensorsHeaderError,
  SafetensorsOffsetError,
  saveQwen25VLCheckpoint,
  writeSafetensors,
} from "../../src/index.js";
import { testBackendNames, useBackend } from "../model/support/backend.js";
import { fixtureDirectory } from "../model/support/fixtures.js";
import { loadFixtureProcessor } from "../policy/support/fixturePolicy.js";

const directory = fixtureDirectory("image");
const temporary = () => mkdtempSync(join(tmpdir(), "qwen-vl-portable-"));

const sameWeights = async (a: Qwen25VLModel, b: Qwen25VLModel) => {
  expect([...a.parameters.keys()]).toEqual([...b.parameters.keys()]);
  for (const [name, variable] of a.parameters)
    expect(await b.parameters.get(name)!.data(), name).toEqual(await variable.data());
};

describe.each(testBackendNames)("portable loading on %s", (backend) => {
  let fromDisk: Qwen25VLModel;
  beforeAll(async () => {
    expect(await useBackend(backend)).toBe(true);
    fromDisk = await loadQwen25VL(directory);
  });
  afterAll(() => fromDisk.dispose());

  it("loadQwen25VLFromBytes gives the weights loadQwen25VL reads from the directory", async () => {
    const before = tf.memory().numTensors;
    const model = await loadQwen25VLFromBytes({
      config: JSON.parse(readFileSync(join(directory, "config.json"), "utf8")),
      // An unaligned copy: tensors then start at offsets a Float32Array view could not use.
      weights: new Uint8Array([0, ...readFileSync(join(directory, "model.safetensors"))]).subarray(1),
    });
    await sameWeights(fromDisk, model);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("loadQwen25VLFromUrl fetches config.json and model.safetensors relative to the base URL", async () => {
    const original = globalThis.fetch;
    const fetched: Array<string> = [];
    globalThis.fetch = (async (url: URL) => {
      fetched.push(String(url));
      return new Response(readFileSync(join(directory, String(url).split("/").at(-1)!)));
    }) as typeof fetch;
    try {
      const model = await loadQwen25VLFromUrl("http://127.0.0.1:9/checkpoint/");
      await sameWeights(fromDisk, model);
      model.dispose();
    } finally {
      globalThis.fetch = original;
    }
    expect(fetched).toEqual([
      "http://127.0.0.1:9/checkpoint/config.json",
      "http://127.0.0.1:9/checkpoint/model.safetensors",
    ]);
  });

  it("qwen25VLSafetensorsBytes are byte for byte the model.safetensors saveQwen25VLCheckpoint writes", async () => {
    const out = temporary();
    await saveQwen25VLCheckpoint(fromDisk, out);
    expect(await qwen25VLSafetensorsBytes(fromDisk)).toEqual(
      new Uint8Array(readFileSync(join(out, "model.safetensors"))),
    );
  });
});

describe("safetensors in memory", () => {
  it("encodeSafetensors equals writeSafetensors' file and reads back", async () => {
    const tensors = [
      {
        name: "a",
        shape: [2, 3],
        values: () => new Float32Array([1.5, -2, 3.25, Number.MIN_VALUE, 1e30, -0]),
      },
      { name: "b.weight", shape: [1], values: async () => new Float32Array([7]) },
    ];
    const file = join(temporary(), "t.safetensors");
    await writeSafetensors(file, tensors);
    const bytes = await encodeSafetensors(tensors);
    expect(bytes).toEqual(new Uint8Array(readFileSync(file)));
    const read = await SafetensorsBytes.from(new Uint8Array(bytes).buffer);
    // float32 round-trip: what was stored, rounded to float32.
    expect([...(await read.read("a"))]).toEqual([1.5, -2, 3.25, Number.MIN_VALUE, 1e30, -0].map(Math.fround));
    expect([...(await read.read("b.weight"))]).toEqual([7]);
  });

  it("rejects a truncated file and a header that is not JSON, naming the source", async () => {
    const bytes = await encodeSafetensors([{ name: "a", shape: [4], values: () => new Float32Array(4) }]);
    await expect(
      SafetensorsBytes.from(bytes.subarray(0, bytes.length - 2), "x.safetensors"),
    ).rejects.toSatisfy(
      (error: unknown) => error instanceof SafetensorsOffsetError && error.file === "x.safetensors",
    );
    const broken = bytes.slice();
    broken[8] = 0x7b + 1;
    await expect(SafetensorsBytes.from(broken)).rejects.toBeInstanceOf(SafetensorsHeaderError);
  });

  it("loadQwen25VLFromUrl names the URL that fails", async () => {
    const original = globalThis.fetch;
    globalThis.fetch = (async () =>
      new Response("no", { status: 404, statusText: "Not Found" })) as typeof fetch;
    try {
      await expect(loadQwen25VLFromUrl("http://127.0.0.1:9/missing/")).rejects.toSatisfy(
        (error: unknown) =>
          error instanceof CheckpointFileError && error.file === "http://127.0.0.1:9/missing/config.json",
      );
    } finally {
      globalThis.fetch = original;
    }
  });
});

describe("the portable processor", () => {
  const rgb = new Uint8Array(28 * 56 * 3).map((_, index) => (index * 37) % 256);
  const png = () => {
    const image = new PNG({ width: 56, height: 28 });
    for (let pixel = 0; pixel < 28 * 56; pixel++) {
      image.data.set(rgb.subarray(3 * pixel, 3 * pixel + 3), 4 * pixel);
      image.data[4 * pixel + 3] = 255;
    }
    return new Uint8Array(PNG.sync.write(image));
  };

  it("encodes raw pixels exactly as the Node processor encodes the PNG of the same pixels", async () => {
    const node = await loadFixtureProcessor();
    const portable = makePortableQwenVLProcessor({
      tokenizer: node.tokenizer,
      imageProcessorConfig: node.imageProcessorConfig,
      chatTemplate: node.chatTemplate,
    });
    const messages = [
      {
        role: "user" as const,
        content: [
          { type: "image" as const, image: "image.png" },
          { type: "text" as const, text: "w1 w2" },
        ],
      },
    ];
    expect(decodeImage(png(), "png").data).toEqual(rgb);
    const fromPng = node.encode(messages, [png()]);
    const fromPixels = portable.encode(messages, [{ width: 56, height: 28, data: rgb }]);
    expect(fromPixels.inputIds).toEqual(fromPng.inputIds);
    expect(fromPixels.pixelValues).toEqual(fromPng.pixelValues);
    expect(fromPixels.imageGridThw).toEqual(fromPng.imageGridThw);
    // The Node factory with the portable loader behaves as the portable one.
    const withRawLoader = makeQwenVLProcessor({ ...node, loadImage: loadRawImage });
    expect(() => withRawLoader.encode(messages, [png()])).toThrow(ImageDecodeError);
  });

  it("refuses paths and encoded bytes with a reason", () => {
    expect(() => loadRawImage("images/a.png", { sample: "p1" })).toThrow(/only raw RGB pixels/);
    expect(() => loadRawImage(png(), {})).toThrow(ImageDecodeError);
    expect(() => loadRawImage({ width: 2, height: 2, data: new Uint8Array(5) }, {})).toThrow(
      /expected 12 RGB bytes/,
    );
  });
});
