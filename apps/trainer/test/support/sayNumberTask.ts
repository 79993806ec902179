import type { TrainerConfig } from "../../src/TrainerConfig.js";
import type { TrainingExample } from "../../src/TrainingData.js";
import { TabularPolicy } from "./TabularPolicy.js";

/** A trivial verifiable task for the tabular policy: "Say k" → the answer is the digit k. */
export const vocabulary = ["1", "2", "3", "4", "<eos>"] as const;
export const prompts = ["Say 1", "Say 2", "Say 3", "Say 4"];

export const examples: ReadonlyArray<TrainingExample> = prompts.map((prompt, index) => ({
  request: { promptId: `say-${index + 1}`, messages: [{ role: "user", content: prompt }] },
  answer: String(index + 1),
}));

export const makePolicy = (seed = 7): TabularPolicy =>
  new TabularPolicy({ vocabulary, endOfSequence: vocabulary.length - 1, prompts, seed, initialScale: 0.1 });

/**
 * A config for this task; `runDir` is where the run writes. The reward is @apo-rl/rewards' counting
 * verifier (the response must be the number), verified in this thread.
 */
export const taskConfig = (
  runDir: string,
  overrides: Partial<TrainerConfig["train"]> = {},
): TrainerConfig => ({
  plugins: [],
  model: { checkpoint: "tabular", trainVisionTower: false },
  data: {
    format: "synthetic",
    heldOutSize: 4,
    allowOutsideRoot: false,
    skipInvalid: false,
    maxImagesPerPrompt: 8,
    maxImagePixels: 89_478_485,
    synthetic: { variant: "count", difficulty: 0.5, trainSize: 4, imageSize: 56 },
  },
  rollout: { groupSize: 8, temperature: 1, topP: 1, topK: 0, maxNewTokens: 2, stopStrings: [] },
  reward: {
    preset: "accuracy",
    accuracy: "counting",
    weights: { accuracy: 1, format: 0 },
    timeoutMs: 5000,
    workers: 0,
  },
  objective: { name: "apo", options: { beta: 0.001 } },
  optimizer: {
    lr: 0.1,
    betas: [0.9, 0.99],
    weightDecay: 0,
    eps: 1e-8,
    gradClip: 1,
    warmupSteps: 1,
    schedule: "cosine",
    minLrRatio: 0.1,
  },
  train: {
    steps: 4,
    promptsPerStep: 4,
    maxTokensPerMicroBatch: 24,
    ppoEpochs: 1,
    miniBatchesPerStep: 1,
    evalEvery: 0,
    evalTemperature: 0,
    saveEvery: 0,
    keepLast: 2,
    seed: 3,
    maxConsecutiveNonFinite: 3,
    ...overrides,
  },
  output: { runDir },
  backend: "cpu",
});
