import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import { inProcessBatchVerifier } from "../src/BatchVerifier.js";
import { createVerifierFromConfig, verifierFromConfig } from "../src/defaultHooks.js";
import { TrainingObjective, TrainingVerifier, trainerLayer } from "../src/services.js";
import { samplerCursor } from "../src/TrainingData.js";
import { resolveHooks, trainProgram } from "../src/train.js";
import { examples, makePolicy, taskConfig } from "./support/sayNumberTask.js";

describe("the trainer as an Effect program", () => {
  it("builds the services in layers, trains, and closes the verifier when the scope ends", async () => {
    const runDir = mkdtempSync(join(tmpdir(), "apo-effect-"));
    const config = taskConfig(runDir, { steps: 2, promptsPerStep: 2 });
    const events: string[] = [];
    const hooks = resolveHooks({
      createPolicy: async () => makePolicy(),
      createVerifier: async (settings) => {
        const verifier = inProcessBatchVerifier(verifierFromConfig(settings));
        events.push("verifier opened");
        return {
          ...verifier,
          close: async () => {
            events.push("verifier closed");
          },
        };
      },
      createData: async () => ({ train: samplerCursor(examples, 1), heldOut: [] }),
    });
    const program = Effect.gen(function* () {
      const objective = yield* TrainingObjective;
      const verifier = yield* TrainingVerifier;
      events.push(`objective ${objective.name}, verifier ${verifier.name}`);
      return yield* trainProgram({ log: () => {}, progress: () => {}, handleSignals: false });
    });
    const summary = await Effect.runPromise(
      program.pipe(Effect.provide(trainerLayer(config, hooks)), Effect.scoped),
    );
    expect(summary).toMatchObject({ steps: 2, objective: "apo", backend: "cpu" });
    expect(events).toEqual(["verifier opened", "objective apo, verifier counting", "verifier closed"]);
  });

  it("fails with the component's typed error (an unknown objective names the registered ones)", async () => {
    const config = {
      ...taskConfig(mkdtempSync(join(tmpdir(), "apo-effect-"))),
      objective: { name: "ppo", options: {} },
    };
    const hooks = resolveHooks({ createPolicy: async () => makePolicy() });
    const exit = await Effect.runPromiseExit(
      trainProgram({ handleSignals: false }).pipe(Effect.provide(trainerLayer(config, hooks)), Effect.scoped),
    );
    expect(exit._tag).toBe("Failure");
    expect(JSON.stringify(exit)).toContain("ppo");
  });

  it("builds the view-r1 composite from the config, correct from accuracy alone", async () => {
    const base = taskConfig("unused");
    const verifier = verifierFromConfig({
      ...base,
      reward: {
        ...base.reward,
        preset: "view-r1",
        accuracy: "counting",
        weights: { accuracy: 1, format: 0.5 },
      },
    });
    const formatted = await verifier.verify("<think>count</think><answer>3</answer>", "3");
    expect(formatted.reward).toBe(1.5);
    expect(formatted.correct).toBe(true);
    const wrong = await verifier.verify("<think>count</think><answer>4</answer>", "3");
    expect(wrong.reward).toBe(0.5);
    expect(wrong.correct).toBe(false);
    const pool = await createVerifierFromConfig({ ...base, reward: { ...base.reward, workers: 0 } });
    expect((await pool.verifyBatch([{ response: "3", reference: "3" }]))[0]!.correct).toBe(true);
    await pool.close();
  });
});
