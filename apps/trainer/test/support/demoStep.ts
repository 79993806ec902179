import * as tf from "@tensorflow/tfjs-core";
import { demoCheckpointDirectory } from "../../src/demo/demoAssets.js";
import { loadQwenPolicy } from "../../src/qwen/loadQwenPolicy.js";
import type { TrainerConfig } from "../../src/TrainerConfig.js";

/** A constant learning rate of 1e-3, no clipping, no decay: the optimizer settings of one test step. */
export const testOptimizerConfig: TrainerConfig["optimizer"] = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  weightDecay: 0,
  eps: 1e-8,
  gradClip: 0,
  warmupSteps: 0,
  schedule: "constant",
  minLrRatio: 0,
};

/**
 * A LoRA policy (rank 4 on q, v, o, up, no dropout) on the demo checkpoint whose adapters are moved
 * away from zero with seeded noise (else the policy equals its reference).
 */
export const movedLoraDemoPolicy = async () => {
  const policy = await loadQwenPolicy(demoCheckpointDirectory(), {
    lora: { rank: 4, alpha: 8, dropout: 0, targetModules: ["q", "v", "o", "up"] },
  });
  for (const [index, variable] of policy.trainableParameters().entries()) {
    const moved = tf.tidy(() =>
      tf.add(variable, tf.mul(tf.randomNormal(variable.shape, 0, 1, "float32", 100 + index), 0.05)),
    );
    variable.assign(moved);
    moved.dispose();
  }
  return policy;
};
