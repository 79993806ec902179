import { open } from "node:fs/promises";
import { join } from "node:path";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { AdamW } from "../../src/AdamW.js";
import { saveTrainingCheckpoint, writeCheckpoint } from "../../src/checkpoint.js";
import { makePolicy } from "./sayNumberTask.js";

/**
 * Run in a child process by the crash test: write a complete checkpoint of step 1 (printing its
 * weights), then start the checkpoint of step 2 and keep writing a large file into it until killed.
 */
export const run = async (root: string): Promise<void> => {
  // Only the cpu kernels are needed here (no gradients), so the backend package is imported directly.
  await tf.setBackend("cpu");
  const policy = makePolicy();
  const optimizer = new AdamW(policy.trainableParameters(), {
    betas: [0.9, 0.99],
    eps: 1e-8,
    weightDecay: 0,
  });
  const gradient = tf.onesLike(policy.table);
  optimizer.update([gradient], 0.1);
  const state = {
    step: 1,
    randomState: 12345,
    dataCursor: { epoch: 0, index: 2, seed: 1 },
    consecutiveNonFinite: 0,
  };
  await saveTrainingCheckpoint(root, { policy, optimizer, state, keepLast: 3 });
  process.stdout.write(`saved ${JSON.stringify(Array.from(policy.table.dataSync()))}\n`);
  optimizer.update([gradient], 0.1);
  await writeCheckpoint(
    root,
    2,
    async (directory) => {
      await policy.save(join(directory, "policy"));
      await optimizer.save(join(directory, "optimizer"));
      const file = await open(join(directory, "large-weights.bin"), "w");
      const chunk = new Uint8Array(1 << 20).fill(7);
      for (let written = 0; written < 4096; written++) {
        await file.write(chunk);
        if (written === 8) process.stdout.write("writing\n");
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await file.close();
    },
    { keepLast: 3 },
  );
  process.stdout.write("finished (the test should have killed this process)\n");
};
