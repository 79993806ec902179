import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { testBackends, useBackend } from "./support/backends.js";
import { examples, makePolicy } from "./support/sayNumberTask.js";

const softmax = (values: ReadonlyArray<number>): number[] => {
  const maximum = Math.max(...values);
  const exps = values.map((value) => Math.exp(value - maximum));
  const total = exps.reduce((sum, value) => sum + value, 0);
  return exps.map((value) => value / total);
};

for (const backend of testBackends) {
  describe(`tabular test policy on ${backend}`, () => {
    it("recomputes the sampling log-probs exactly enough for a PPO ratio of 1", async () => {
      await useBackend(backend);
      const policy = makePolicy(5);
      const requests = examples.map((example) => example.request);
      const rollouts = await policy.generate(requests, { n: 6, temperature: 0.7, maxNewTokens: 3, seed: 8 });
      const before = tf.memory().numTensors;
      const { logp, mask, entropy } = policy.logprobs({ requests, rollouts, temperature: 0.7 });
      const values = (await logp.array()) as number[][];
      const maskValues = (await mask.array()) as number[][];
      rollouts.forEach((rollout, row) => {
        expect(maskValues[row]!.reduce((sum, value) => sum + value, 0)).toBe(rollout.tokenIds.length);
        rollout.logprobs.forEach((logprob, position) => {
          expect(values[row]![position]!).toBeCloseTo(logprob, 5);
        });
      });
      tf.dispose([logp, mask, entropy!]);
      expect(tf.memory().numTensors).toBe(before);
      policy.dispose();
    });

    it("samples first tokens with the softmax frequencies of its table", async () => {
      await useBackend(backend);
      const policy = makePolicy(6);
      // Make the first prompt's row clearly non-uniform.
      tf.tidy(() => {
        const table = policy.table.arraySync() as number[][];
        table[0] = [2, 1, 0, -1, 0.5];
        policy.table.assign(tf.tensor2d(table));
      });
      const temperature = 1.5;
      const expected = softmax([2, 1, 0, -1, 0.5].map((value) => value / temperature));
      const n = 4000;
      const rollouts = await policy.generate([examples[0]!.request], {
        n,
        temperature,
        maxNewTokens: 1,
        seed: 3,
      });
      const counts = [0, 0, 0, 0, 0];
      for (const rollout of rollouts) counts[rollout.tokenIds[0]!]! += 1;
      counts.forEach((count, token) => {
        // 4 standard deviations of a binomial proportion.
        const sd = Math.sqrt((expected[token]! * (1 - expected[token]!)) / n);
        expect(Math.abs(count / n - expected[token]!)).toBeLessThan(4 * sd);
      });
      const topK = await policy.generate([examples[0]!.request], {
        n: 200,
        temperature,
        topK: 2,
        maxNewTokens: 1,
        seed: 4,
      });
      expect(new Set(topK.map((rollout) => rollout.tokenIds[0]))).toEqual(new Set([0, 1]));
      const greedy = await policy.generate([examples[0]!.request], {
        n: 3,
        temperature: 0,
        maxNewTokens: 1,
        seed: 4,
      });
      expect(greedy.map((rollout) => rollout.tokenIds[0])).toEqual([0, 0, 0]);
      policy.dispose();
    });

    it("saves and loads its weights exactly", async () => {
      await useBackend(backend);
      const directory = mkdtempSync(join(tmpdir(), "apo-tabular-"));
      const saved = makePolicy(1);
      await saved.save(directory);
      const loaded = makePolicy(2);
      expect(Array.from(loaded.table.dataSync())).not.toEqual(Array.from(saved.table.dataSync()));
      await loaded.load(directory);
      expect(Array.from(loaded.table.dataSync())).toEqual(Array.from(saved.table.dataSync()));
      saved.dispose();
      loaded.dispose();
    });
  });
}
