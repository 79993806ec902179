import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { syntheticCountingTask, writeSyntheticTask } from "@apo-rl/datasets";
import { describe, expect, it } from "vitest";
import { runCli } from "../src/runCli.js";

/** Seven training rows and two held-out rows of the counting task, written as JSONL + PNG files. */
const writeTask = async () => {
  const directory = mkdtempSync(join(tmpdir(), "apo-bad-rows-"));
  const task = syntheticCountingTask({ seed: 3, trainSize: 7, heldOutSize: 2, difficulty: 0.2 });
  const files = await writeSyntheticTask(join(directory, "data"), task);
  const rows = readFileSync(files.train, "utf8").trim().split("\n");
  return { directory, files, rows };
};

interface Row {
  messages: Array<{ role: string; content: Array<{ type: string; image?: string; text?: string }> }>;
}

/** The image path of a JSONL row (relative to the file). */
const imageOf = (row: string): string =>
  (JSON.parse(row) as Row).messages
    .flatMap((message) => message.content)
    .find((part) => part.type === "image")!.image!;

const runYaml = (train: string, heldOut: string, runDir: string, steps = 3) => `model: { checkpoint: demo }
data: { format: jsonl, path: ${JSON.stringify(train)}, heldOutPath: ${JSON.stringify(heldOut)} }
rollout: { groupSize: 2, maxNewTokens: 6 }
reward: { preset: view-r1, accuracy: counting, workers: 0 }
objective: { name: apo }
optimizer: { lr: 0.0001, schedule: constant }
train: { steps: ${steps}, promptsPerStep: 2, seed: 1 }
output: { runDir: ${JSON.stringify(runDir)} }
backend: cpu
`;

const cli = async (argv: ReadonlyArray<string>) => {
  const out = { stdout: "", stderr: "" };
  const status = await runCli(
    argv,
    {
      stdout: (text) => {
        out.stdout += text;
      },
      stderr: (text) => {
        out.stderr += text;
      },
    },
    { handleSignals: false, progress: () => {} },
  );
  return { status, ...out };
};

const records = (runDir: string) =>
  readFileSync(join(runDir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** A PNG header (signature + IHDR) claiming `width × height`, with no image data after it. */
const pngHeaderOnly = (width: number, height: number): Buffer => {
  const bytes = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes, 0);
  bytes.writeUInt32BE(13, 8);
  bytes.write("IHDR", 12, "latin1");
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  bytes.set([8, 2, 0, 0, 0], 24);
  return bytes;
};

describe("bad dataset rows", () => {
  it("a truncated PNG in the middle is skipped when drawn: every step runs, one skipped-row event, counted", async () => {
    const { directory, files, rows } = await writeTask();
    // Header intact (passes the load-time check), pixel data cut: only a full decode finds it.
    truncateSync(join(directory, "data", imageOf(rows[3]!)), 60);
    const runDir = join(directory, "run");
    writeFileSync(join(directory, "run.yaml"), runYaml(files.train, files.heldOut, runDir));
    const run = await cli(["--config", join(directory, "run.yaml")]);
    expect(run.status, run.stderr).toBe(0);
    const all = records(runDir);
    expect(all.filter((record) => record.kind === "train")).toHaveLength(3);
    const skipped = all.filter((record) => record.kind === "skipped-row");
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ phase: "draw", file: files.train, row: 4 });
    expect(skipped[0]!["reason"]).toMatch(/cannot be decoded/);
    const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8"));
    expect(summary).toMatchObject({ steps: 3, skippedDrawnRows: 1, skippedDataRows: 0 });
    expect(run.stderr).toMatch(/step \d: skipped row .*train\.jsonl:4/);
  });

  it("an over-long prompt fails the load naming the row, or with --skip-invalid is skipped, logged and counted", async () => {
    const { directory, files, rows } = await writeTask();
    const long = JSON.parse(rows[2]!) as Row;
    long.messages[0]!.content = [
      { type: "image", image: imageOf(rows[2]!) },
      { type: "text", text: "red ".repeat(400) },
    ];
    rows[2] = JSON.stringify(long);
    writeFileSync(files.train, `${rows.join("\n")}\n`);
    const runDir = join(directory, "run");
    writeFileSync(join(directory, "run.yaml"), runYaml(files.train, files.heldOut, runDir, 2));

    const refused = await cli(["--config", join(directory, "run.yaml")]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /row 3: the prompt has \d+ tokens \(4 of them image tokens\), more than data\.maxPromptTokens = 256/,
    );

    const run = await cli(["--config", join(directory, "run.yaml"), "--skip-invalid"]);
    expect(run.status, run.stderr).toBe(0);
    const skipped = records(runDir).filter((record) => record.kind === "skipped-row");
    expect(skipped).toEqual([expect.objectContaining({ phase: "load", step: 0, file: files.train, row: 3 })]);
    const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8"));
    expect(summary).toMatchObject({ steps: 2, skippedDataRows: 1, skippedDrawnRows: 0 });
  });

  it("image headers are checked at load: a corrupt header, a 60000×60000 claim, too many images", async () => {
    const { directory, files, rows } = await writeTask();
    writeFileSync(join(directory, "data", imageOf(rows[0]!)), "garbage, not an image");
    writeFileSync(join(directory, "data", imageOf(rows[1]!)), pngHeaderOnly(60000, 60000));
    const many = JSON.parse(rows[4]!) as Row;
    const image = imageOf(rows[4]!);
    many.messages[0]!.content = [
      ...Array.from({ length: 9 }, () => ({ type: "image", image })),
      { type: "text", text: "How many?" },
    ];
    rows[4] = JSON.stringify(many);
    writeFileSync(files.train, `${rows.join("\n")}\n`);
    writeFileSync(join(directory, "run.yaml"), runYaml(files.train, files.heldOut, join(directory, "run")));
    const refused = await cli(["--config", join(directory, "run.yaml")]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("3 of 7 rows cannot be used by this model");
    expect(refused.stderr).toMatch(/row 1: image 1 \(.*\): not a PNG or JPEG file/);
    expect(refused.stderr).toMatch(
      /row 2: image 1 \(.*\): its header claims 60000×60000 = 3600000000 pixels, more than data\.maxImagePixels/,
    );
    expect(refused.stderr).toMatch(/row 5: 9 images, more than data\.maxImagesPerPrompt = 8/);
  });
});
