import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { drawUsableExamples } from "../src/skippedRows.js";
import type { TrainerConfig } from "../src/TrainerConfig.js";
import { samplerCursor, type TrainingExample } from "../src/TrainingData.js";
import { train } from "../src/train.js";
import { useBackend } from "./support/backends.js";
import { examples, makePolicy, taskConfig } from "./support/sayNumberTask.js";

const BAD = "say-2";
const check = (example: TrainingExample) =>
  example.request.promptId === BAD ? "image 1 is corrupt" : undefined;

/** Train with one unusable example; abort (checkpoint + stop) once `stopAfter` steps are done. */
const run = async (config: TrainerConfig, options: { resume?: boolean; stopAfter?: number } = {}) => {
  const policy = makePolicy();
  const controller = new AbortController();
  const summary = await train(config, {
    log: () => {},
    handleSignals: false,
    ...(options.resume === undefined ? {} : { resume: options.resume }),
    stopSignal: controller.signal,
    progress: (line) => {
      if (options.stopAfter !== undefined && line.startsWith(`step ${options.stopAfter}/`))
        controller.abort();
    },
    hooks: {
      createPolicy: async () => policy,
      createData: async () => ({
        train: samplerCursor(examples.slice(0, 3), 11),
        heldOut: [],
        checkExample: check,
      }),
    },
  });
  const weights = Array.from(policy.table.dataSync());
  policy.dispose();
  return { summary, weights };
};

const skippedEvents = (runDir: string) =>
  readFileSync(join(runDir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { kind: string; step: number; promptId?: string; reason?: string })
    .filter((record) => record.kind === "skipped-row");

describe("rows skipped when drawn", () => {
  it("never stop the run, are logged per draw, and a resume replays the same draws exactly", async () => {
    await useBackend("cpu");
    const configFor = (runDir: string): TrainerConfig => ({
      ...taskConfig(runDir, { steps: 4, promptsPerStep: 2, maxTokensPerMicroBatch: 16 }),
      backend: "cpu",
    });
    const straightDir = mkdtempSync(join(tmpdir(), "apo-skip-"));
    const straight = await run(configFor(straightDir));
    const events = skippedEvents(straightDir);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((event) => event.promptId === BAD && event.reason === "image 1 is corrupt")).toBe(
      true,
    );
    expect(straight.summary).toMatchObject({ steps: 4, skippedDrawnRows: events.length });

    const resumedDir = mkdtempSync(join(tmpdir(), "apo-skip-"));
    await run(configFor(resumedDir), { stopAfter: 2 });
    const resumed = await run(configFor(resumedDir), { resume: true });
    expect(resumed.weights).toEqual(straight.weights);
    expect(skippedEvents(resumedDir)).toEqual(events);
    expect(resumed.summary).toMatchObject({ steps: 4, skippedDrawnRows: events.length });
  });

  it("replace each skipped example with the cursor's next one, in order", async () => {
    const cursor = samplerCursor(examples.slice(0, 3), 11);
    const reference = samplerCursor(examples.slice(0, 3), 11);
    const order = reference.next(8).map((example) => example.request.promptId);
    const skipped: string[] = [];
    const drawn = await drawUsableExamples(cursor, 4, check, async (example) => {
      skipped.push(example.request.promptId);
    });
    // Hand-simulated: walk the cursor's order, skipping the bad prompt, until four are usable.
    const expected: string[] = [];
    const expectedSkips: string[] = [];
    for (const id of order) {
      if (expected.length === 4) break;
      (id === BAD ? expectedSkips : expected).push(id);
    }
    expect(drawn.map((example) => example.request.promptId)).toEqual(expected);
    expect(skipped).toEqual(expectedSkips);
    expect(skipped.length).toBeGreaterThan(0);
  });
});
