import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { syntheticCountingTask } from "@apo-rl/datasets";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { inProcessBatchVerifier } from "../src/BatchVerifier.js";
import { demoBaseDirectory } from "../src/demo/demoAssets.js";
import { demoVerifier } from "../src/demo/demoVerifier.js";
import { loadQwenPolicy } from "../src/qwen/loadQwenPolicy.js";
import { runSft, type SftStepRecord } from "../src/sft/runSft.js";
import { SftConfig } from "../src/sft/SftConfig.js";
import { runSftCli } from "../src/sft/sftCli.js";
import { demoSftTarget } from "../src/sft/sftCommand.js";
import { sftBatch, sftLoss, sftMicroBatchLoss } from "../src/sft/sftLoss.js";
import { accumulateGradients } from "../src/step/gradientStep.js";
import { planMicroBatches } from "../src/step/microBatches.js";
import { toTrainingExample } from "../src/TrainingData.js";
import { testBackends, useBackend } from "./support/backends.js";

const quiet = { log: () => {} };

const configFor = (dir: string, steps: number) =>
  SftConfig.make({
    model: { base: "demo", initSeed: 3, trainVisionTower: true },
    data: { seed: 0, trainSize: 4, heldOutSize: 2, variant: "count", difficulty: 0.25, imageSize: 56 },
    optimizer: {
      lr: 0.01,
      betas: [0.9, 0.999],
      weightDecay: 0,
      eps: 1e-8,
      gradClip: 1,
      warmupSteps: 0,
      schedule: "constant",
      minLrRatio: 0,
    },
    train: { steps, batchSize: 4, seed: 0, evalEvery: 0, saveEvery: 0, maxNewTokens: 12 },
    output: { dir },
    backend: "cpu",
  });

const task = syntheticCountingTask({ trainSize: 4, heldOutSize: 2, difficulty: 0.25 });
const train = task.train.map(toTrainingExample);
const heldOut = task.heldOut.map(toTrainingExample);

describe.each(testBackends)("SFT on %s", (backend) => {
  it("the loss is the mean negative log-likelihood of the response tokens the sampler reports", async () => {
    await useBackend(backend);
    const policy = await loadQwenPolicy(demoBaseDirectory(), { initSeed: 5 });
    const tensors = tf.memory().numTensors;
    // Independent expectation: the generation engine's (KV-cached) log-probs of sampled tokens.
    const requests = train.slice(0, 2).map((example) => example.request);
    const rollouts = await policy.generate(requests, { n: 1, temperature: 1, maxNewTokens: 6, seed: 4 });
    const examples = rollouts.map((rollout, index) => ({
      request: requests[index]!,
      responseIds: rollout.tokenIds,
      responseText: rollout.text,
    }));
    const all = rollouts.flatMap((rollout) => rollout.logprobs);
    const expected = -all.reduce((sum, value) => sum + value, 0) / all.length;
    const loss = sftLoss(policy, sftBatch(examples));
    expect(loss.dataSync()[0]).toBeCloseTo(expected, 4);
    loss.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    policy.dispose();
    policy.model.dispose();
  });

  it("summed micro-batch gradients (one row each, padded to itself) equal the whole batch's", async () => {
    await useBackend(backend);
    const policy = await loadQwenPolicy(demoBaseDirectory(), { initSeed: 5, trainVisionTower: "merger" });
    const requests = train.slice(0, 3).map((example) => example.request);
    const rollouts = await policy.generate(requests, { n: 1, temperature: 1, maxNewTokens: 6, seed: 8 });
    // Responses of 2, 4 and 6 tokens: each micro-batch is padded differently from the whole batch.
    const examples = rollouts.map((rollout, index) => ({
      request: requests[index]!,
      responseIds: [...rollout.tokenIds, 1, 2, 3, 4, 5, 6].slice(0, 2 * (index + 1)),
      responseText: rollout.text,
    }));
    const tensors = tf.memory().numTensors;
    const parameters = policy.trainableParameters();
    const total = examples.reduce((sum, example) => sum + example.responseIds.length, 0);
    const whole = await accumulateGradients(parameters, 1, () => sftLoss(policy, sftBatch(examples)));
    const rows = planMicroBatches(
      examples.map((example) => example.responseIds.length),
      1,
    );
    expect(rows).toEqual([[2], [1], [0]]);
    const split = await accumulateGradients(parameters, rows.length, (index) =>
      sftMicroBatchLoss(policy, sftBatch(rows[index]!.map((row) => examples[row]!)), total),
    );
    expect(split.loss).toBeCloseTo(whole.loss, 5);
    const flat = async (gradients: ReadonlyArray<tf.Tensor>) =>
      (await Promise.all(gradients.map(async (gradient) => Array.from(await gradient.data())))).flat();
    const expected = await flat(whole.gradients);
    const actual = await flat(split.gradients);
    let difference = 0;
    let norm = 0;
    expected.forEach((value, index) => {
      difference += (actual[index]! - value) ** 2;
      norm += value ** 2;
    });
    expect(norm).toBeGreaterThan(0);
    expect(Math.sqrt(difference / norm)).toBeLessThanOrEqual(1e-5);
    tf.dispose([...whole.gradients, ...split.gradients]);
    expect(tf.memory().numTensors).toBe(tensors);
    policy.dispose();
    policy.model.dispose();
  });

  it("a few steps lower the loss and write a checkpoint that loads back with identical log-probs", async () => {
    await useBackend(backend);
    const dir = join(mkdtempSync(join(tmpdir(), "apo-sft-")), "checkpoint");
    const config = configFor(dir, 4);
    const policy = await loadQwenPolicy(demoBaseDirectory(), { initSeed: 3 });
    const examples = train.map(demoSftTarget(policy.processor));
    const batch = sftBatch(examples);
    const lossOf = (scored: typeof policy) => tf.tidy(() => sftLoss(scored, batch).dataSync()[0]!);
    const before = lossOf(policy);
    const tensors = tf.memory().numTensors;
    const summary = await runSft(
      {
        config,
        policy,
        train,
        heldOut,
        target: demoSftTarget(policy.processor),
        verifier: inProcessBatchVerifier(demoVerifier()),
      },
      quiet,
    );
    expect(tf.memory().numTensors).toBe(tensors);
    // Four full-batch AdamW steps on the same four examples.
    const after = lossOf(policy);
    expect(after).toBeLessThan(before - 0.1);
    expect(summary.steps).toBe(4);
    expect(summary.firstLoss).toBeCloseTo(before, 4);
    for (const file of [
      "config.json",
      "model.safetensors",
      "tokenizer.json",
      "chat_template.jinja",
      "sft-summary.json",
    ])
      expect(existsSync(join(dir, file)), file).toBe(true);
    const records = readFileSync(join(dir, "sft-metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as SftStepRecord | { kind: "eval" });
    expect(records.filter((record) => record.kind === "sft")).toHaveLength(4);
    expect(records.filter((record) => record.kind === "eval")).toHaveLength(2);

    const loaded = await loadQwenPolicy(dir);
    const logp = (scored: typeof policy) => tf.tidy(() => Array.from(scored.logprobs(batch).logp.dataSync()));
    expect(logp(loaded)).toEqual(logp(policy));
    for (const owned of [policy, loaded]) {
      owned.dispose();
      owned.model.dispose();
    }
  });
});

describe("apo-train sft command line", () => {
  it("rejects an unknown key and a bad value, naming them, with status 2", async () => {
    const errors: string[] = [];
    const output = { stdout: () => {}, stderr: (text: string) => errors.push(text) };
    expect(
      await runSftCli(
        ["--set", "train.steps=2", "--set", "output.dir=x", "--set", "train.batchsize=4"],
        output,
      ),
    ).toBe(2);
    expect(errors.join("")).toMatch(/train\.batchsize.*unknown key/);
    expect(await runSftCli(["--set", "train.steps=0", "--set", "output.dir=x"], output)).toBe(2);
    expect(errors.join("")).toMatch(/train\.steps/);
  });

  it("prints the resolved config with defaults", async () => {
    const printed: string[] = [];
    const output = { stdout: (text: string) => printed.push(text), stderr: () => {} };
    expect(await runSftCli(["--set", "train.steps=2", "--out", "somewhere", "--print-config"], output)).toBe(
      0,
    );
    const config = JSON.parse(printed.join(""));
    expect(config.output.dir).toBe("somewhere");
    expect(config.train.batchSize).toBe(32);
    expect(config.model.base).toBe("demo");
  });
});
