import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidInputError } from "@apo-rl/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DatasetFileError,
  InvalidDatasetError,
  readDataset,
  readJsonl,
  readViewR1,
  toGenerationRequest,
} from "../src/index.js";

const fixtures = resolve(__dirname, "fixtures/datasets");
const fixture = (name: string) => join(fixtures, name);
const image = (name: string) => join(fixtures, "images", name);
const outside = resolve(__dirname, "fixtures/outside/elsewhere.png");

const rejection = async <E>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> => {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (error instanceof type) return error;
  throw new Error(`expected a ${type.name}, got ${String(error)}`);
};

const onlyRowsAndFields = (problems: ReadonlyArray<{ row: number; field: string }>) =>
  problems.map(({ row, field }) => [row, field]);

describe("readViewR1", () => {
  it("reads rows into items with absolute image paths in image-part order", async () => {
    const dataset = await readViewR1(fixture("view-r1.json"));
    expect(dataset.format).toBe("view-r1");
    expect(dataset.path).toBe(fixture("view-r1.json"));
    expect(dataset.skippedRows).toBe(0);
    expect(dataset.items).toEqual([
      {
        id: "view-r1.json:1",
        messages: [
          { role: "system", content: "Answer inside <answer></answer>." },
          {
            role: "user",
            content: [
              { type: "image", image: image("cat.png") },
              { type: "text", text: "How many cats are in the picture?" },
            ],
          },
        ],
        images: [image("cat.png")],
        answer: "2",
        row: 1,
      },
      {
        id: "compare-1",
        messages: [
          {
            role: "user",
            content: [
              { type: "image", image: image("dog.png") },
              { type: "image", image: image("bird.png") },
              { type: "text", text: "Which animal is larger?" },
            ],
          },
        ],
        images: [image("dog.png"), image("bird.png")],
        answer: "dog",
        category: "compare",
        row: 2,
      },
      {
        id: "view-r1.json:3",
        messages: [{ role: "user", content: "What is 3 + 4?" }],
        images: [],
        answer: "7",
        row: 3,
      },
    ]);
  });

  it("reports every bad row with its number, field and reason in one error", async () => {
    const error = await rejection(readViewR1(fixture("view-r1-broken.json")), InvalidDatasetError);
    expect(error._tag).toBe("InvalidDatasetError");
    expect(error.path).toBe(fixture("view-r1-broken.json"));
    expect(error.reason).toContain("6 of 8 rows are invalid");
    expect(onlyRowsAndFields(error.problems)).toEqual([
      [2, "message"],
      [3, "answer"],
      [4, "message[0].content[0].image"],
      [5, "message[0].content[0].image"],
      [7, ""],
      [8, "message[0].role"],
    ]);
    expect(error.problems[0]!.reason).toMatch(/^not valid JSON/);
    expect(error.problems[2]!.reason).toContain("outside the dataset root");
    expect(error.problems[2]!.reason).toContain("allowOutsideRoot");
    expect(error.problems[3]!.reason).toBe(`image file not found: ${image("missing.png")}`);
    for (const row of [2, 3, 4, 5, 7, 8]) expect(error.message).toContain(`row ${row}`);
    expect(error.message).not.toContain("row 1 ");
  });

  it("with skipInvalid keeps the good rows and returns what it skipped", async () => {
    const dataset = await readViewR1(fixture("view-r1-broken.json"), { skipInvalid: true });
    expect(dataset.items.map((item) => item.row)).toEqual([1, 6]);
    expect(dataset.skippedRows).toBe(6);
    expect(onlyRowsAndFields(dataset.skipped).map(([row]) => row)).toEqual([2, 3, 4, 5, 7, 8]);
  });

  it("accepts an image outside the root when allowOutsideRoot is set, or when root contains it", async () => {
    const allowed = await readViewR1(fixture("view-r1-broken.json"), {
      skipInvalid: true,
      allowOutsideRoot: true,
    });
    expect(allowed.items.map((item) => item.row)).toEqual([1, 4, 6]);
    expect(allowed.items[1]!.images).toEqual([outside]);
    const widerRoot = await readViewR1(fixture("view-r1-broken.json"), {
      skipInvalid: true,
      root: resolve(__dirname, "fixtures"),
    });
    expect(widerRoot.items.map((item) => item.row)).toEqual([1, 4, 6]);
  });

  it("does not require image files to exist with checkImages: false", async () => {
    const dataset = await readViewR1(fixture("view-r1-broken.json"), {
      skipInvalid: true,
      checkImages: false,
    });
    expect(dataset.items.map((item) => item.row)).toEqual([1, 5, 6]);
    expect(dataset.items[1]!.images).toEqual([image("missing.png")]);
  });

  it("fails when every row is invalid, even with skipInvalid", async () => {
    const error = await rejection(
      readViewR1(fixture("view-r1-broken.json"), { skipInvalid: true, validateAnswer: () => "never usable" }),
      InvalidDatasetError,
    );
    expect(error.reason).toMatch(/^every row is invalid/);
  });
});

describe("readJsonl", () => {
  it("reads messages rows, prompt rows and images lists; row numbers are line numbers", async () => {
    const dataset = await readJsonl(fixture("good.jsonl"));
    expect(dataset.items.map((item) => [item.row, item.id, item.answer])).toEqual([
      [1, "good.jsonl:1", "2"],
      [2, "dog-colour", "blue"],
      [4, "42", "7"],
      [5, "good.jsonl:5", "bird, cat"],
    ]);
    expect(dataset.items[0]!.category).toBe("count");
    expect(dataset.items[1]!.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "image", image: image("dog.png") },
          { type: "text", text: "What colour is the dog?" },
        ],
      },
    ]);
    expect(dataset.items[2]!.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "What is 3 + 4?" }] },
    ]);
    expect(dataset.items[2]!.images).toEqual([]);
    // An `images` list fills the image parts of `messages` in order.
    expect(dataset.items[3]!.images).toEqual([image("bird.png"), image("cat.png")]);
    expect(dataset.items[3]!.messages[1]!.content).toEqual([
      { type: "image", image: image("bird.png") },
      { type: "text", text: "And this one?" },
      { type: "image", image: image("cat.png") },
    ]);
  });

  it("reports every bad line, several problems per line included", async () => {
    const error = await rejection(readJsonl(fixture("broken.jsonl")), InvalidDatasetError);
    expect(error.reason).toContain("8 of 10 rows are invalid");
    expect(onlyRowsAndFields(error.problems)).toEqual([
      [2, ""],
      [3, "answer"],
      [4, "images[0]"],
      [5, "images[0]"],
      [6, ""],
      [7, "answr"],
      [7, "answer"],
      [8, "id"],
      [9, "images"],
    ]);
    const reasons = error.problems.map((problem) => problem.reason);
    expect(reasons[0]).toMatch(/^not valid JSON/);
    expect(reasons[2]).toContain("outside the dataset root");
    expect(reasons[3]).toBe(`image file not found: ${image("missing.png")}`);
    expect(reasons[4]).toBe("give either messages or prompt, not both");
    expect(reasons[5]).toMatch(/^unknown key/);
    expect(reasons[7]).toBe('duplicate id "first" (first at row 1)');
    expect(reasons[8]).toContain("images lists 2 image(s) but messages have 1 image part(s)");
  });

  it("with skipInvalid counts the skipped rows", async () => {
    const dataset = await readJsonl(fixture("broken.jsonl"), { skipInvalid: true });
    expect(dataset.items.map((item) => item.row)).toEqual([1, 10]);
    expect(dataset.skippedRows).toBe(8);
    expect(dataset.skipped).toHaveLength(9);
  });

  it("reports references the validateAnswer hook cannot use, per row", async () => {
    const integer = (answer: string) =>
      /^\d+$/.test(answer) ? undefined : `${JSON.stringify(answer)} is not an integer`;
    const error = await rejection(
      readJsonl(fixture("good.jsonl"), { validateAnswer: integer }),
      InvalidDatasetError,
    );
    expect(error.problems).toEqual([
      { row: 2, field: "answer", reason: 'unusable reference answer: "blue" is not an integer' },
      { row: 5, field: "answer", reason: 'unusable reference answer: "bird, cat" is not an integer' },
    ]);
    const throwing = (answer: string) => {
      if (answer === "7") throw new Error("cannot parse 7");
      return undefined;
    };
    const thrown = await rejection(
      readJsonl(fixture("good.jsonl"), { validateAnswer: throwing }),
      InvalidDatasetError,
    );
    expect(thrown.problems).toEqual([
      { row: 4, field: "answer", reason: "unusable reference answer: cannot parse 7" },
    ]);
  });
});

describe("image references", () => {
  let directory = "";
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "apo-datasets-"));
    await writeFile(join(directory, "inside.png"), new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
    await symlink(outside, join(directory, "link.png"));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  const viewR1Row = (reference: string) => ({
    message: JSON.stringify([
      {
        role: "user",
        content: [
          { type: "image", image: reference },
          { type: "text", text: "?" },
        ],
      },
    ]),
    answer: "1",
  });

  it("resolves file:// URLs and refuses other schemes and symbolic links out of the root", async () => {
    const path = join(directory, "data.json");
    const rows = [
      viewR1Row(pathToFileURL(join(directory, "inside.png")).href),
      viewR1Row("https://example.com/cat.png"),
      viewR1Row("link.png"),
      viewR1Row("file://remote-host/share/cat.png"),
    ];
    await writeFile(path, JSON.stringify(rows));
    const dataset = await readViewR1(path, { skipInvalid: true });
    expect(dataset.items.map((item) => item.images)).toEqual([[join(directory, "inside.png")]]);
    expect(dataset.skipped.map((problem) => [problem.row, problem.field])).toEqual([
      [2, "message[0].content[0].image"],
      [3, "message[0].content[0].image"],
      [4, "message[0].content[0].image"],
    ]);
    expect(dataset.skipped[0]!.reason).toContain("only file paths and file:// URLs");
    expect(dataset.skipped[1]!.reason).toContain("through a symbolic link");
    expect(dataset.skipped[2]!.reason).toMatch(/^invalid file URL/);
  });
});

describe("ids", () => {
  it("flags a repeated id even when the first row is invalid for another reason", async () => {
    const directory = await mkdtemp(join(tmpdir(), "apo-datasets-"));
    try {
      const path = join(directory, "ids.jsonl");
      const rows = [
        { id: "a", prompt: "?", images: ["missing.png"], answer: "1" },
        { id: "b", prompt: "?", answer: "2" },
        { id: "a", prompt: "?", answer: "3" },
        { id: 2, prompt: "?", answer: "4" },
        { id: "2", prompt: "?", answer: "5" },
      ];
      await writeFile(path, rows.map((row) => JSON.stringify(row)).join("\n"));
      const dataset = await readJsonl(path, { skipInvalid: true });
      expect(dataset.items.map((item) => item.id)).toEqual(["b", "2"]);
      expect(dataset.skipped.map(({ row, field }) => [row, field])).toEqual([
        [1, "images[0]"],
        [3, "id"],
        [5, "id"],
      ]);
      expect(dataset.skipped[1]!.reason).toBe('duplicate id "a" (first at row 1)');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe("whole-file problems", () => {
  let directory = "";
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "apo-datasets-"));
    await writeFile(join(directory, "object.json"), '{"message": "[]", "answer": "1"}');
    await writeFile(join(directory, "broken.json"), "[{");
    await writeFile(join(directory, "empty.jsonl"), "\n  \n");
    await writeFile(join(directory, "data.csv"), "a,b\n");
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it.each([
    ["missing.jsonl", "file not found"],
    ["object.json", "a View-R1 file is a JSON array of { message, answer } rows, got object"],
    ["broken.json", "not valid JSON"],
    ["empty.jsonl", "contains no rows"],
    ["data.csv", "cannot tell the format"],
  ])("%s: %s", async (name, reason) => {
    const error = await rejection(readDataset(join(directory, name)), DatasetFileError);
    expect(error._tag).toBe("DatasetFileError");
    expect(error.path).toBe(join(directory, name));
    expect(error.reason).toContain(reason);
  });

  it("readDataset picks the reader by extension or by format", async () => {
    expect((await readDataset(fixture("good.jsonl"))).format).toBe("jsonl");
    expect((await readDataset(fixture("view-r1.json"))).format).toBe("view-r1");
    const error = await rejection(
      readDataset(fixture("good.jsonl"), { format: "view-r1" }),
      DatasetFileError,
    );
    expect(error.reason).toContain("not valid JSON");
  });
});

describe("options", () => {
  it.each([
    [{ skipInvalid: "yes" }, "skipInvalid"],
    [{ skipInvalids: true }, "skipInvalids"],
    [{ root: "" }, "root"],
    [{ validateAnswer: "strict" }, "validateAnswer"],
    [{ format: "csv" }, "format"],
  ])("rejects %j naming %s", async (options, field) => {
    const error = await rejection(readDataset(fixture("good.jsonl"), options as never), InvalidInputError);
    expect(error.field).toBe(field);
  });
});

describe("toGenerationRequest", () => {
  it("passes an item's messages and images to a policy under its id", async () => {
    const [item] = (await readJsonl(fixture("good.jsonl"))).items;
    expect(toGenerationRequest(item!)).toEqual({
      promptId: "good.jsonl:1",
      messages: item!.messages,
      images: [image("cat.png")],
    });
  });
});
