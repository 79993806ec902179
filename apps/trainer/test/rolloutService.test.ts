import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Rollout } from "@apo-rl/core";
import { syntheticCountingTask, toGenerationRequest } from "@apo-rl/datasets";
import { initBackend } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { createTrainingData } from "../src/createTrainingData.js";
import { createVerifierFromConfig } from "../src/defaultHooks.js";
import { demoCheckpointDirectory } from "../src/demo/demoAssets.js";
import { demoConfigFile } from "../src/demo/demoCli.js";
import { evaluate } from "../src/evaluation.js";
import { loadConfig } from "../src/loadConfig.js";
import type { TrainStepRecord } from "../src/metrics.js";
import { loadQwenPolicy } from "../src/qwen/loadQwenPolicy.js";
import type { RolloutBatch, RolloutSource } from "../src/rollout/RolloutSource.js";
import { remoteRolloutSource } from "../src/rollout/remoteRolloutSource.js";
import { rolloutServerClient } from "../src/rollout/rolloutServerClient.js";
import {
  createRolloutSourceFromConfig,
  spawnConfiguredRolloutServers,
} from "../src/rollout/rolloutSourceFromConfig.js";
import { spawnRolloutServers } from "../src/rollout/spawnRolloutServers.js";
import { train } from "../src/train.js";
import { testBackends } from "./support/backends.js";

// Every server of these tests is an apo-serve child process on a 127.0.0.1 port, stopped by the test.
const serveCommand = [process.execPath, fileURLToPath(new URL("./support/serveChild.mjs", import.meta.url))];
const backend = testBackends[0]!;

/**
 * The demo's config for these tests: on-policy with each step's groups spread over the servers
 * unless `overrides` say otherwise (the demo itself samples ahead and packs: `rollout.async: 1`,
 * `rollout.dispatch: pack`).
 */
const demoConfig = (runDir: string, overrides: ReadonlyArray<string>) =>
  loadConfig({
    file: demoConfigFile(),
    overrides: [
      `output.runDir=${runDir}`,
      "train.evalEvery=0",
      "data.heldOutSize=0",
      "train.promptsPerStep=4",
      `backend=${backend}`,
      "rollout.async=0",
      "rollout.dispatch=spread",
      ...overrides,
    ],
  });

const trainRecords = (runDir: string): TrainStepRecord[] =>
  readFileSync(join(runDir, "metrics.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as TrainStepRecord)
    .filter((record) => record.kind === "train");

/** Each step sampled every group exactly once: `groupSize` rollouts per prompt, no prompt twice. */
const expectEveryGroupOnce = (record: TrainStepRecord, groupSize: number) => {
  const service = record.rolloutService!;
  const prompts = service.assignments.map((assignment) => assignment.promptId);
  expect(new Set(prompts).size).toBe(prompts.length);
  expect(record.samples).toBe(prompts.length * groupSize);
};

// Each test starts two server processes and trains: generous time limits for a loaded machine.
const LIMIT = 400_000;

/** An "optimizer update": seeded noise on the first trainable weights. */
const perturbWeights = (policy: { trainableParameters(): ReadonlyArray<tf.Variable> }, seed: number) => {
  for (const parameter of policy.trainableParameters().slice(0, 6))
    parameter.assign(
      tf.tidy(() => tf.add(parameter, tf.randomNormal(parameter.shape, 0, 0.3, "float32", seed))),
    );
};

describe("remote rollouts on loopback apo-serve processes", () => {
  it(
    "rollout.spawn: 2 — 4 demo steps; rollouts came from both servers; the weight version advances every step",
    async () => {
      const runDir = join(mkdtempSync(join(tmpdir(), "apo-rollout-spawn-")), "run");
      const config = demoConfig(runDir, [
        "train.steps=4",
        "rollout.spawn=2",
        "data.heldOutSize=8",
        "train.evalEvery=2",
      ]);
      const evaluatedAt: number[] = [];
      const readyAtEvaluation: boolean[] = [];
      const summary = await train(config, {
        handleSignals: false,
        log: () => undefined,
        progress: () => undefined,
        hooks: {
          initBackend: async () => (await initBackend(backend)).chosen,
          createRolloutSource: async (settings, policy, backendName) => {
            const source = await createRolloutSourceFromConfig(settings, policy, {
              backend: backendName,
              serveCommand,
            });
            return {
              ...source,
              // Asked once per evaluation, just before it.
              ready: () => {
                const ready = source.ready?.() ?? true;
                readyAtEvaluation.push(ready);
                return ready;
              },
              evaluate: (requests, options, context) => {
                evaluatedAt.push(context.step);
                return source.evaluate!(requests, options, context);
              },
            };
          },
        },
      });
      expect(summary.steps).toBe(4);
      const records = trainRecords(runDir);
      expect(records).toHaveLength(4);
      expect(records.map((record) => record.rolloutService?.weightVersion)).toEqual([0, 1, 2, 3]);
      const servers = new Set<string>();
      for (const record of records) {
        expectEveryGroupOnce(record, config.rollout.groupSize);
        expect(record.rolloutService!.retries).toBe(0);
        expect(record.rolloutService!.liveServers).toBe(2);
        for (const assignment of record.rolloutService!.assignments) {
          expect(assignment.weightVersion).toBe(record.step - 1);
          expect(assignment.server).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
          servers.add(assignment.server);
        }
      }
      expect(servers.size).toBe(2);
      // The servers were still starting at the step-0 evaluation: it ran in this process instead of
      // waiting for them; the later ones (step 2, after) ran on the servers.
      expect(readyAtEvaluation).toEqual([false, true, true]);
      expect(evaluatedAt).toEqual([2, 4]);
      expect(summary.heldOutAccuracyBefore).not.toBeNull();
      expect(summary.heldOutAccuracyAfter).not.toBeNull();
    },
    LIMIT,
  );

  it(
    "rollout.async: 1, dispatch: pack (the demo's) — step k+1's rollouts are sampled with step k's weights (staleness 1), each step's on one server, in turns",
    async () => {
      const runDir = join(mkdtempSync(join(tmpdir(), "apo-rollout-async-")), "run");
      const config = demoConfig(runDir, [
        "train.steps=4",
        "rollout.spawn=2",
        "rollout.async=1",
        "rollout.dispatch=pack",
        "objective.options.rolloutCorrection.mode=tis",
      ]);
      const summary = await train(config, {
        handleSignals: false,
        log: () => undefined,
        progress: () => undefined,
        hooks: {
          initBackend: async () => (await initBackend(backend)).chosen,
          createRolloutSource: (settings, policy, backendName) =>
            createRolloutSourceFromConfig(settings, policy, {
              backend: backendName,
              serveCommand,
              useReference: true,
            }),
        },
      });
      expect(summary.steps).toBe(4);
      const records = trainRecords(runDir);
      expect(records.map((record) => record.rolloutService?.weightVersion)).toEqual([0, 0, 1, 2]);
      expect(records.map((record) => record.rolloutService?.staleness)).toEqual([0, 1, 1, 1]);
      const serverOfStep: string[] = [];
      for (const record of records) {
        expectEveryGroupOnce(record, config.rollout.groupSize);
        expect(record.objective["rolloutRatioMean"]).toBeGreaterThan(0);
        // The reference came with the sampling (apo-serve's reference_model): KL measured every step.
        expect(record.rolloutService!.referenceModel).toBe("policy-reference");
        expect(record.kl).not.toBeNull();
        const servers = new Set(record.rolloutService!.assignments.map((assignment) => assignment.server));
        expect(servers.size).toBe(1);
        serverOfStep.push([...servers][0]!);
      }
      // The two servers took turns.
      expect(serverOfStep.slice(1).every((server, index) => server !== serverOfStep[index])).toBe(true);
      // Stale rollouts differ from the trained policy: the correction sees ratios away from 1.
      expect(records.slice(1).some((record) => record.objective["rolloutRatioMax"]! > 1.0001)).toBe(true);
    },
    LIMIT,
  );

  it(
    "greedy: the servers' tokens equal the in-process policy's, before and after a weight update",
    async () => {
      await initBackend(backend);
      const policy = await loadQwenPolicy(demoCheckpointDirectory(), { entropy: false });
      const runDir = mkdtempSync(join(tmpdir(), "apo-rollout-greedy-"));
      let source: RolloutSource | undefined;
      try {
        source = await createRolloutSourceFromConfig(
          demoConfig(runDir, ["train.steps=2", "rollout.spawn=2"]),
          policy,
          {
            backend,
            serveCommand,
          },
        );
        const requests = syntheticCountingTask({ trainSize: 6, heldOutSize: 0, difficulty: 0.25 }).train.map(
          toGenerationRequest,
        );
        const options = { n: 2, temperature: 0, maxNewTokens: 12, seed: 11 };
        const tokens = (
          rollouts: ReadonlyArray<{ promptId: string; groupIndex: number; tokenIds: ReadonlyArray<number> }>,
        ) =>
          rollouts.map(
            (rollout) => `${rollout.promptId}/${rollout.groupIndex}: ${rollout.tokenIds.join(" ")}`,
          );
        const before = await source.generate(requests, options, { step: 0 });
        expect(tokens(before.rollouts)).toEqual(tokens(await policy.generate(requests, options)));
        expect(new Set(before.record!.assignments.map((assignment) => assignment.server)).size).toBe(2);
        // An "optimizer update": change the decoder weights; step 1 must sample with them.
        perturbWeights(policy, 1);
        const expected = await policy.generate(requests, options);
        expect(tokens(expected)).not.toEqual(tokens(before.rollouts));
        const after = await source.generate(requests, options, { step: 1 });
        expect(after.record!.weightVersion).toBe(1);
        expect(tokens(after.rollouts)).toEqual(tokens(expected));
      } finally {
        await source?.close();
        policy.dispose();
        policy.model.dispose();
      }
    },
    LIMIT,
  );

  it(
    "reference on the servers: each group's reference log-probs equal the trainer's reference pass, also after weight updates",
    async () => {
      await initBackend(backend);
      const policy = await loadQwenPolicy(demoCheckpointDirectory(), { entropy: false, reference: true });
      const runDir = mkdtempSync(join(tmpdir(), "apo-rollout-reference-"));
      let source: RolloutSource | undefined;
      try {
        const config = demoConfig(runDir, ["train.steps=2", "rollout.spawn=2"]);
        source = await createRolloutSourceFromConfig(config, policy, {
          backend,
          serveCommand,
          useReference: true,
        });
        const requests = syntheticCountingTask({ trainSize: 4, heldOutSize: 0, difficulty: 0.25 }).train.map(
          toGenerationRequest,
        );
        const options = { n: 3, temperature: 1, maxNewTokens: 12, seed: 5 };
        const trainerReference = (rollouts: ReadonlyArray<Rollout>) =>
          tf.tidy(() => {
            const { logp } = policy.logprobs({ requests, rollouts, temperature: 1 }, { reference: true });
            return (logp.arraySync() as number[][]).map((row, index) =>
              row.slice(0, rollouts[index]!.tokenIds.length),
            );
          });
        const expectServed = (batch: RolloutBatch) => {
          expect(batch.record!.referenceModel).toBe("policy-reference");
          expect(batch.referenceLogprobs).toHaveLength(batch.rollouts.length);
          const expected = trainerReference(batch.rollouts);
          batch.referenceLogprobs!.forEach((row, index) => {
            expect(row).toHaveLength(expected[index]!.length);
            row.forEach((value, position) => {
              expect(value).toBeCloseTo(expected[index]![position]!, 4);
            });
          });
        };
        const before = await source.generate(requests, options, { step: 0 });
        expect(new Set(before.record!.assignments.map((assignment) => assignment.server)).size).toBe(2);
        expectServed(before);
        // An "optimizer update": the servers get the new weights, the reference stays the initial one.
        perturbWeights(policy, 2);
        const after = await source.generate(requests, options, { step: 1 });
        expect(after.record!.weightVersion).toBe(1);
        expectServed(after);
        const current = tf.tidy(
          () =>
            policy
              .logprobs({ requests, rollouts: after.rollouts, temperature: 1 })
              .logp.arraySync() as number[][],
        );
        expect(Math.abs(current[0]![0]! - after.referenceLogprobs![0]![0]!)).toBeGreaterThan(1e-3);
      } finally {
        await source?.close();
        policy.dispose();
        policy.model.dispose();
      }
    },
    LIMIT,
  );

  it(
    "rollout.spawn: 2 through train(): the servers score the reference; the first step's KL is 0 up to rounding",
    async () => {
      const runDir = join(mkdtempSync(join(tmpdir(), "apo-rollout-train-reference-")), "run");
      const config = demoConfig(runDir, ["train.steps=2", "rollout.spawn=2"]);
      const summary = await train(config, {
        handleSignals: false,
        log: () => undefined,
        progress: () => undefined,
        hooks: {
          initBackend: async () => (await initBackend(backend)).chosen,
          createRolloutSource: (settings, policy, backendName, run) =>
            createRolloutSourceFromConfig(settings, policy, {
              backend: backendName,
              serveCommand,
              useReference: run.useReference,
            }),
        },
      });
      expect(summary.steps).toBe(2);
      const records = trainRecords(runDir);
      expect(records.map((record) => record.rolloutService?.referenceModel)).toEqual([
        "policy-reference",
        "policy-reference",
      ]);
      // Step 1 trains the initial weights: policy and reference agree, so the KL estimate is ~0.
      expect(records[0]!.kl).not.toBeNull();
      expect(Math.abs(records[0]!.kl!)).toBeLessThan(1e-5);
      expect(Number.isFinite(records[1]!.kl!)).toBe(true);
    },
    LIMIT,
  );

  it(
    "fault: a server killed mid-step — the step completes on the other; metrics.jsonl shows the retry; nothing lost or duplicated",
    async () => {
      const runDir = join(mkdtempSync(join(tmpdir(), "apo-rollout-fault-")), "run");
      const config = demoConfig(runDir, ["train.steps=3", "rollout.spawn=2"]);
      let killedUrl = "";
      const summary = await train(config, {
        handleSignals: false,
        log: () => undefined,
        progress: () => undefined,
        hooks: {
          initBackend: async () => (await initBackend(backend)).chosen,
          createRolloutSource: async (_settings, policy, backendName) => {
            const spawned = await spawnRolloutServers({
              count: 2,
              model: demoCheckpointDirectory(),
              servedModelName: "policy",
              backend: backendName,
              command: serveCommand,
            });
            let step = -1;
            let killed = false;
            const clients = spawned.urls.map((url, index) => {
              const client = rolloutServerClient(url, { timeoutMs: 60_000 });
              return {
                ...client,
                generate: async (...args: Parameters<typeof client.generate>) => {
                  // During the second step, the first request to server 0 finds it killed (SIGKILL).
                  if (step === 1 && index === 0 && !killed) {
                    killed = true;
                    killedUrl = url;
                    const process_ = spawned.processes[0]!;
                    const exited = new Promise((resolve) => process_.once("exit", resolve));
                    process_.kill("SIGKILL");
                    await exited;
                  }
                  return client.generate(...args);
                },
              };
            });
            const source = remoteRolloutSource({
              clients,
              policy,
              weightSync: "disk",
              baseModel: "policy",
              syncDirectory: join(runDir, "rollout-weights"),
              maxInFlightPerServer: 1,
              onClose: spawned.stop,
            });
            return {
              ...source,
              generate: (requests, options, context) => {
                step = context.step;
                return source.generate(requests, options, context);
              },
            };
          },
        },
      });
      expect(summary.steps).toBe(3);
      const records = trainRecords(runDir);
      expect(records).toHaveLength(3);
      for (const record of records) expectEveryGroupOnce(record, config.rollout.groupSize);
      const [first, second, third] = records.map((record) => record.rolloutService!);
      expect(first!.retries).toBe(0);
      expect(second!.retries).toBeGreaterThanOrEqual(1);
      expect(second!.failures.map((failure) => failure.server)).toEqual([killedUrl]);
      expect(second!.liveServers).toBe(1);
      expect(second!.assignments.some((assignment) => assignment.attempts === 2)).toBe(true);
      expect(second!.assignments.every((assignment) => assignment.server !== killedUrl)).toBe(true);
      expect(third!.assignments.every((assignment) => assignment.server !== killedUrl)).toBe(true);
      expect(third!.weightVersion).toBe(2);
    },
    LIMIT,
  );

  it(
    "held-out evaluation through the servers: greedy, the in-process tokens and accuracy; servers started early are used",
    async () => {
      await initBackend(backend);
      const policy = await loadQwenPolicy(demoCheckpointDirectory(), { entropy: false });
      const runDir = mkdtempSync(join(tmpdir(), "apo-rollout-eval-"));
      const config = demoConfig(runDir, ["train.steps=2", "rollout.spawn=2", "data.heldOutSize=24"]);
      const verifier = await createVerifierFromConfig(config);
      // As `train` does: the servers start before the source is built, which then takes them over.
      const spawned = spawnConfiguredRolloutServers(config, { backend, serveCommand })!;
      let source: RolloutSource | undefined;
      try {
        source = await createRolloutSourceFromConfig(config, policy, { backend, serveCommand, spawned });
        const urls = (await spawned).urls;
        const data = await createTrainingData(config);
        const heldOut = data.heldOut;
        expect(heldOut).toHaveLength(24);
        const requests = heldOut.map((example) => example.request);
        const greedy = { n: 1, temperature: 0, maxNewTokens: 12, seed: 3 };
        const remote = await source.evaluate!(requests, greedy, { step: 0 });
        const local = await policy.generate(requests, greedy);
        const tokens = (rollouts: ReadonlyArray<{ promptId: string; tokenIds: ReadonlyArray<number> }>) =>
          rollouts.map((rollout) => `${rollout.promptId}: ${rollout.tokenIds.join(" ")}`);
        expect(tokens(remote)).toEqual(tokens(local));
        const settings = { temperature: 0, maxNewTokens: 12, seed: 3, batchSize: 8 };
        const inProcess = await evaluate(policy, verifier, heldOut, settings, 0);
        const onServers = await evaluate(
          policy,
          verifier,
          heldOut,
          {
            ...settings,
            generate: (batch, options) => source!.evaluate!(batch, options, { step: 0 }),
          },
          0,
        );
        expect(onServers.samples).toBe(24);
        for (const key of ["accuracy", "reward", "formatRate", "meanLength"] as const)
          expect(onServers[key]).toBe(inProcess[key]);
        // The step after uses the same early-started servers, both of them.
        const step = await source.generate(requests.slice(0, 4), { ...greedy, n: 2 }, { step: 0 });
        expect(new Set(step.record!.assignments.map((assignment) => assignment.server))).toEqual(
          new Set(urls),
        );
      } finally {
        await source?.close();
        await (await spawned.catch(() => undefined))?.stop();
        await verifier.close?.();
        policy.dispose();
        policy.model.dispose();
      }
    },
    LIMIT,
  );

  it(
    "no server left: the step fails with a clear error",
    async () => {
      await initBackend(backend);
      const policy = await loadQwenPolicy(demoCheckpointDirectory(), { entropy: false });
      try {
        const source = remoteRolloutSource({
          clients: [rolloutServerClient("http://127.0.0.1:9", { timeoutMs: 2_000 })],
          policy,
          weightSync: "disk",
          baseModel: "policy",
          syncDirectory: mkdtempSync(join(tmpdir(), "apo-rollout-none-")),
        });
        const requests = syntheticCountingTask({ trainSize: 1, heldOutSize: 0 }).train.map(
          toGenerationRequest,
        );
        await expect(
          source.generate(requests, { n: 2, temperature: 1, maxNewTokens: 4, seed: 0 }, { step: 0 }),
        ).rejects.toThrow(/no rollout server is left.*127\.0\.0\.1:9/);
        await source.close();
      } finally {
        policy.dispose();
        policy.model.dispose();
      }
    },
    LIMIT,
  );
});
