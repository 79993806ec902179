import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidInputError } from "@apo-rl/core";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type DatasetItem,
  possibleCountingAnswers,
  possibleCountingPrompts,
  readJsonl,
  type ShapeColor,
  syntheticCountingTask,
  writeSyntheticTask,
} from "../src/index.js";
import { type Component, components, decode } from "./support/imageComponents.js";

/** The colours a question asks about, read from its text. */
const askedColors = (item: DatasetItem): ReadonlyArray<ShapeColor> => {
  const content = item.messages[0]!.content;
  const text = typeof content === "string" ? content : content.find((part) => part.type === "text")!.text;
  const single = /^How many (\w+) shapes are there\?/.exec(text);
  if (single) return [single[1] as ShapeColor];
  const pair = /^How many (\w+) and (\w+) shapes are there in total\?/.exec(text);
  if (pair) return [pair[1] as ShapeColor, pair[2] as ShapeColor];
  throw new Error(`unexpected question: ${text}`);
};

/** Square ≈ 1 of its box, circle ≈ π/4, triangle ≈ ½. */
const kindOf = (component: Component): string => {
  const fill = component.pixels / (component.width * component.height);
  return fill > 0.95
    ? "square"
    : fill > 0.68 && fill < 0.9
      ? "circle"
      : fill > 0.4 && fill < 0.65
        ? "triangle"
        : "?";
};

describe("syntheticCountingTask", () => {
  const task = syntheticCountingTask({
    seed: 3,
    trainSize: 120,
    heldOutSize: 40,
    variant: "mixed",
    difficulty: 1,
  });
  const all = [...task.train, ...task.heldOut];

  it("renders PNGs whose shapes of the asked colours add up to the answer", () => {
    for (const item of all) {
      const { width, height, labels } = decode(item);
      expect([width, height]).toEqual([56, 56]);
      expect(labels).not.toContain("unknown");
      const found = components(item);
      expect(found.length).toBeGreaterThanOrEqual(1);
      expect(found.length).toBeLessThanOrEqual(6);
      const asked = askedColors(item);
      expect(new Set(asked).size).toBe(asked.length);
      const counted = found.filter((component) => asked.includes(component.color)).length;
      expect(String(counted)).toBe(item.answer);
      expect(item.category).toBe(asked.length === 1 ? "count" : "sum");
    }
  });

  it("draws circles, squares and triangles that a fill-ratio test tells apart", () => {
    const kinds = all.flatMap((item) => components(item).map(kindOf));
    expect(kinds).not.toContain("?");
    expect(new Set(kinds)).toEqual(new Set(["square", "circle", "triangle"]));
  });

  it("shapes items as DatasetItems with PNG bytes and the image part first", () => {
    const item = task.train[0]!;
    expect(item.id).toBe("synthetic-train-00001");
    expect(item.row).toBe(1);
    expect(item.images).toHaveLength(1);
    expect(item.images[0]).toBeInstanceOf(Uint8Array);
    expect(item.messages).toHaveLength(1);
    expect(item.messages[0]!.content).toEqual([
      { type: "image", image: "images/synthetic-train-00001.png" },
      { type: "text", text: expect.stringMatching(/^How many /) },
    ]);
    expect(task.heldOut[0]!.id).toBe("synthetic-held-out-00001");
    expect(new Set(task.train.map((item) => item.category))).toEqual(new Set(["count", "sum"]));
  });

  it("is deterministic: the same options give the same bytes", () => {
    const again = syntheticCountingTask({
      seed: 3,
      trainSize: 120,
      heldOutSize: 40,
      variant: "mixed",
      difficulty: 1,
    });
    expect(again).toEqual(task);
  });

  it("keeps producing the pinned items, so data behind committed checkpoints stays reproducible", () => {
    // Pinned once from this generator; a change here changes every synthetic dataset (and the demo).
    const pinned = syntheticCountingTask({ seed: 1, trainSize: 3, heldOutSize: 2, variant: "mixed" });
    const summary = [...pinned.train, ...pinned.heldOut].map((item) => {
      const pixels = PNG.sync.read(Buffer.from(item.images[0] as Uint8Array)).data;
      return [
        item.id,
        askedColors(item).join("+"),
        item.answer,
        createHash("sha256").update(pixels).digest("hex").slice(0, 16),
      ];
    });
    expect(summary).toEqual([
      ["synthetic-train-00001", "purple", "4", "f0f7f3ea00051914"],
      ["synthetic-train-00002", "purple+yellow", "4", "87acc7926c4257f7"],
      ["synthetic-train-00003", "yellow+red", "4", "8950022ed843f07d"],
      ["synthetic-held-out-00001", "green+blue", "3", "533ffb4b8d3f44e9"],
      ["synthetic-held-out-00002", "green", "1", "3f7adf37f3061aa4"],
    ]);
  });

  it("keeps the held-out split fixed across training seeds while training items change", () => {
    const other = syntheticCountingTask({
      seed: 4,
      trainSize: 120,
      heldOutSize: 40,
      variant: "mixed",
      difficulty: 1,
    });
    expect(other.heldOut).toEqual(task.heldOut);
    expect(other.train.map((item) => item.images[0])).not.toEqual(task.train.map((item) => item.images[0]));
    const moved = syntheticCountingTask({
      seed: 3,
      heldOutSeed: 9,
      trainSize: 1,
      heldOutSize: 40,
      variant: "mixed",
    });
    expect(moved.heldOut.map((item) => item.images[0])).not.toEqual(
      task.heldOut.map((item) => item.images[0]),
    );
  });

  it("never puts a held-out scene and question in training, even where scenes repeat", () => {
    // Tiny images, one or two shapes, one target colour: few enough scenes that training repeats itself.
    const options = {
      imageSize: 32,
      difficulty: 0,
      targetColors: ["red"],
      trainSize: 1500,
      heldOutSize: 300,
    } as const;
    const keyOf = (item: DatasetItem) =>
      `${JSON.stringify(item.messages[0]!.content)}|${Buffer.from(item.images[0] as Uint8Array).toString("hex")}`;
    const contentOf = (item: DatasetItem) => keyOf(item).replace(/"image":"[^"]*"/, "");
    for (const seed of [0, 1]) {
      const small = syntheticCountingTask({ ...options, seed, heldOutSeed: seed });
      const training = small.train.map(contentOf);
      expect(new Set(training).size).toBeLessThan(training.length);
      const trainingSet = new Set(training);
      expect(small.heldOut.filter((item) => trainingSet.has(contentOf(item)))).toEqual([]);
    }
  });

  it("makes items harder with the difficulty knob: more shapes, smaller ones", () => {
    const shapes = (difficulty: number) =>
      syntheticCountingTask({ seed: 1, trainSize: 150, heldOutSize: 0, difficulty }).train.map(components);
    const easy = shapes(0);
    const hard = shapes(1);
    const counts = (scenes: ReadonlyArray<ReadonlyArray<Component>>) => scenes.map((scene) => scene.length);
    const meanArea = (scenes: ReadonlyArray<ReadonlyArray<Component>>) => {
      const areas = scenes.flat().map((component) => component.width * component.height);
      return areas.reduce((sum, area) => sum + area, 0) / areas.length;
    };
    expect(Math.max(...counts(easy))).toBe(2);
    expect(Math.max(...counts(hard))).toBe(6);
    expect(Math.min(...counts(hard))).toBeGreaterThanOrEqual(1);
    expect(meanArea(hard)).toBeLessThan(meanArea(easy));
    const easyColors = new Set(easy.flatMap((scene) => scene.map((component) => component.color)));
    expect(easyColors.size).toBeGreaterThan(1);
  });

  it("asks only about targetColors and appends the instruction", () => {
    const red = syntheticCountingTask({
      trainSize: 20,
      heldOutSize: 5,
      targetColors: ["red"],
      instruction: "Answer with a number.",
      imageSize: 84,
    });
    for (const item of [...red.train, ...red.heldOut]) {
      expect(item.messages[0]!.content).toContainEqual({
        type: "text",
        text: "How many red shapes are there? Answer with a number.",
      });
      expect(decode(item).width).toBe(84);
      expect(String(components(item).filter((component) => component.color === "red").length)).toBe(
        item.answer,
      );
    }
  });

  it("lists every prompt and answer it can produce, and produces only those", () => {
    const options = { seed: 8, trainSize: 300, heldOutSize: 0, variant: "mixed", difficulty: 0.5 } as const;
    const prompts = possibleCountingPrompts(options);
    const answers = possibleCountingAnswers(options);
    // 5 one-colour questions and 5 × 4 ordered colour pairs; at difficulty 0.5 at most 4 shapes.
    expect(prompts).toHaveLength(25);
    expect(answers).toEqual(["1", "2", "3", "4"]);
    const items = syntheticCountingTask(options).train;
    const text = (item: DatasetItem) =>
      (item.messages[0]!.content as ReadonlyArray<{ text?: string }>)[1]!.text!;
    expect(new Set(items.map(text))).toEqual(new Set(prompts));
    expect(new Set(items.map((item) => item.answer))).toEqual(new Set(answers));
    expect(possibleCountingPrompts({ targetColors: ["red"], instruction: "Reply with a digit." })).toEqual([
      "How many red shapes are there? Reply with a digit.",
    ]);
  });

  it.each([
    [{ difficulty: 2 }, "difficulty"],
    [{ imageSize: 16 }, "imageSize"],
    [{ trainSize: -1 }, "trainSize"],
    [{ variant: "product" }, "variant"],
    [{ targetColors: ["pink"] }, "targetColors[0]"],
    [{ targetColors: [] }, "targetColors"],
    [{ colour: "red" }, "colour"],
  ])("rejects %j naming %s", (options, field) => {
    try {
      syntheticCountingTask(options as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).field).toBe(field);
    }
  });
});

describe("writeSyntheticTask", () => {
  let directory = "";
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "apo-synthetic-"));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("writes JSONL + PNG files that readJsonl reads back to the same items", async () => {
    const task = syntheticCountingTask({ seed: 5, trainSize: 6, heldOutSize: 3, variant: "sum" });
    const files = await writeSyntheticTask(directory, task);
    expect(files).toEqual({
      train: join(directory, "train.jsonl"),
      heldOut: join(directory, "held-out.jsonl"),
      images: join(directory, "images"),
    });
    for (const [path, items] of [
      [files.train, task.train],
      [files.heldOut, task.heldOut],
    ] as const) {
      const read = await readJsonl(path);
      expect(read.items.map((item) => [item.id, item.answer, item.category, item.row])).toEqual(
        items.map((item) => [item.id, item.answer, item.category, item.row]),
      );
      for (const [index, item] of read.items.entries()) {
        const file = join(directory, "images", `${item.id}.png`);
        expect(item.images).toEqual([file]);
        expect(new Uint8Array(await readFile(file))).toEqual(items[index]!.images[0]);
        expect(item.messages[0]!.content).toEqual([
          { type: "image", image: file },
          (items[index]!.messages[0]!.content as ReadonlyArray<unknown>)[1],
        ]);
      }
    }
  });
});
