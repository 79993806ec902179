import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Effect } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  counting,
  createVerifierPool,
  format,
  mathAnswer,
  VerifierPool,
  VerifierPoolError,
  type VerifierPoolHandle,
  verifyBatch,
  viewR1Reward,
} from "../src/index.js";

/**
 * The pool runs the built worker (`dist/worker.js`). CI builds before testing; when run from a
 * checkout whose build is missing or older than the sources, build it here first.
 */
const packageDirectory = fileURLToPath(new URL("..", import.meta.url));
const newestSource = (directory: string): number =>
  Math.max(
    ...readdirSync(directory, { withFileTypes: true }).map((entry) =>
      entry.isDirectory()
        ? newestSource(`${directory}/${entry.name}`)
        : statSync(`${directory}/${entry.name}`).mtimeMs,
    ),
  );
const workerPath = `${packageDirectory}dist/worker.js`;
const slowWorker = new URL("./fixtures/slowWorker.mjs", import.meta.url);

beforeAll(() => {
  if (!existsSync(workerPath) || statSync(workerPath).mtimeMs < newestSource(`${packageDirectory}src`)) {
    execFileSync("pnpm", ["exec", "tsup"], { cwd: packageDirectory, stdio: "ignore" });
  }
});

describe("verifier pool (built worker)", () => {
  let pool: VerifierPoolHandle;
  beforeAll(() => {
    pool = createVerifierPool(viewR1Reward(), { threads: 2, timeLimitMs: 3000 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it("returns the same verdicts as in-process verification, in order", async () => {
    const verifier = viewR1Reward();
    const items = Array.from({ length: 40 }, (_, index) => ({
      response:
        index % 3 === 0 ? `<think>t</think><answer>${index}</answer>` : `the answer is $\\frac{${index}}{2}$`,
      reference: String(index % 5 === 0 ? index / 2 : index),
    }));
    const results = await pool.verifyBatch(items);
    expect(results).toEqual(items.map((item) => verifier.verify(item.response, item.reference)));
  });

  const adversarial: ReadonlyArray<readonly [string, string]> = [
    ["10k nested braces", `${"{".repeat(9_990)}1${"}".repeat(9_990)}`],
    ["power tower", "$10^10^10^10$"],
    ["braced power tower", "$10^{10^{10^{10}}}$"],
    ["huge factorial", "$100000!$"],
    ["regex bomb: letters then !", `${"a".repeat(19_000)}!`],
    ["regex bomb: spaces after answer", `answer${" ".repeat(19_000)}x`],
    ["regex bomb: unclosed \\(", "\\(".repeat(9_000)],
    ["regex bomb: dollars", "$".repeat(19_000)],
    ["regex bomb: comma digits", "1,000".repeat(3_900)],
    ["nested \\frac", "\\frac".repeat(3_900)],
    ["deep parentheses", `$${"(".repeat(9_000)}1${")".repeat(9_000)}$`],
    ["2 000 factorial signs", `$3${"!".repeat(2_000)}$`],
    ["a sum of 7 000 terms", `$${Array.from({ length: 7_000 }, () => "1").join("+")}$`],
  ];

  it.each(adversarial)("%s returns within the time limit with a clear reason", async (_, response) => {
    const start = performance.now();
    const result = await pool.verify(response, "1");
    expect(performance.now() - start).toBeLessThan(6000);
    expect(result.correct).toBe(false);
    const accuracy = (result.details.breakdown as { accuracy: { details: { reason: string } } }).accuracy
      .details;
    expect(["mismatch", "no-answer", "unparseable-answer", "too-deep", "timeout"]).toContain(accuracy.reason);
  });

  it("answers a 1 MB response with too-long without reaching a worker", async () => {
    const result = await pool.verify("1".repeat(1 << 20), "1");
    expect(result).toMatchObject({ reward: 0, correct: false, details: { reason: "too-long" } });
  });

  it("verifies a 1 MB response within the limit when the bound is raised", async () => {
    const big = createVerifierPool(mathAnswer({ maxInputLength: 2_000_000 }), {
      threads: 1,
      timeLimitMs: 3000,
      maxInputLength: 2_000_000,
    });
    try {
      const result = await big.verify(`${"word ".repeat(200_000)} so \\boxed{1}`, "1");
      expect(result.details.reason === "match" || result.details.reason === "timeout").toBe(true);
    } finally {
      await big.close();
    }
  });
});

describe("time limit (stand-in worker that hangs)", () => {
  it("gives reward 0 with reason timeout and keeps serving the other items in order", async () => {
    const pool = createVerifierPool(format(), {
      threads: 2,
      timeLimitMs: 300,
      workerFile: slowWorker,
      chunkSize: 4,
    });
    try {
      const responses = ["a", "bb", "hang", "dddd", "eeeee", "hang", "g"];
      const start = performance.now();
      const results = await pool.verifyBatch(responses.map((response) => ({ response, reference: "" })));
      expect(performance.now() - start).toBeLessThan(5000);
      expect(results.map((result) => result.details.reason)).toEqual([
        "echo",
        "echo",
        "timeout",
        "echo",
        "echo",
        "timeout",
        "echo",
      ]);
      expect(results.map((result) => result.reward)).toEqual([1, 2, 0, 4, 5, 0, 1]);
      // The pool recovers: later calls still work.
      expect((await pool.verify("xyz", "")).reward).toBe(3);
    } finally {
      await pool.close();
    }
  });
});

describe("pool errors and helpers", () => {
  it("refuses a verifier without a spec", () => {
    const custom = {
      specificationVersion: "v1",
      name: "custom",
      verify: () => ({ reward: 1, correct: true, details: {} }),
    };
    expect(() => createVerifierPool(custom as never)).toThrow(VerifierPoolError);
  });

  it("reports a missing worker file", () => {
    expect(() => createVerifierPool(format(), { workerFile: "/nonexistent/worker.js" })).toThrow(
      /worker-missing/,
    );
  });

  it("verifyBatch runs a temporary pool", async () => {
    const results = await verifyBatch(
      counting(),
      [
        { response: "seven", reference: "7" },
        { response: "8", reference: "7" },
      ],
      { threads: 1 },
    );
    expect(results.map((result) => result.correct)).toEqual([true, false]);
  });

  it("the VerifierPool layer acquires and releases the pool", async () => {
    const program = Effect.gen(function* () {
      const pool = yield* VerifierPool;
      return yield* pool.verifyBatch([
        { response: "<answer>4</answer>", reference: "4" },
        { response: "<answer>5</answer>", reference: "4" },
      ]);
    });
    const results = await Effect.runPromise(
      program.pipe(Effect.provide(VerifierPool.layer(mathAnswer(), { threads: 1 }))),
    );
    expect(results.map((result) => result.reward)).toEqual([1, 0]);
  });
});
