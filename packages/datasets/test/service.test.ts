import { join, resolve } from "node:path";
import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import { Dataset, InvalidDatasetError, readJsonl } from "../src/index.js";

const fixtures = resolve(__dirname, "fixtures/datasets");
const run = <A, E>(program: Effect.Effect<A, E, Dataset>) =>
  Effect.runPromise(Effect.provide(program, Dataset.layer));

describe("Dataset service", () => {
  it("is keyed @apo-rl/datasets/Dataset", () => {
    expect(Dataset.key).toBe("@apo-rl/datasets/Dataset");
  });

  it("reads the same items as the plain function", async () => {
    const path = join(fixtures, "good.jsonl");
    const viaService = await run(Dataset.use((dataset) => dataset.read(path)));
    expect(viaService).toEqual(await readJsonl(path));
  });

  it("fails in the error channel with the tagged error listing every row", async () => {
    const error = await run(
      Effect.flip(Dataset.use((dataset) => dataset.readViewR1(join(fixtures, "view-r1-broken.json")))),
    );
    expect(error).toBeInstanceOf(InvalidDatasetError);
    expect(error._tag).toBe("InvalidDatasetError");
    expect((error as InvalidDatasetError).problems.map((problem) => problem.row)).toEqual([2, 3, 4, 5, 7, 8]);
  });

  it("generates a synthetic task and samples it deterministically", async () => {
    const program = Effect.gen(function* () {
      const dataset = yield* Dataset;
      const task = yield* dataset.syntheticCountingTask({ seed: 1, trainSize: 8, heldOutSize: 2 });
      const sampler = yield* dataset.sampler(task.train, { seed: 5 });
      return sampler.take(8).map((item) => item.id);
    });
    const first = await run(program);
    expect(await run(program)).toEqual(first);
    expect([...first].sort()).toEqual(
      Array.from({ length: 8 }, (_, index) => `synthetic-train-0000${index + 1}`),
    );
  });

  it("reports bad synthetic options as InvalidInputError in the error channel", async () => {
    const error = await run(
      Effect.flip(Dataset.use((dataset) => dataset.syntheticCountingTask({ difficulty: -1 }))),
    );
    expect(error._tag).toBe("InvalidInputError");
    expect(error.field).toBe("difficulty");
  });
});
