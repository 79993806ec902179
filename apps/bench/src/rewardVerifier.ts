import { choice, counting, mathAnswer, referenceCheck } from "@apo-rl/rewards";
import { type BatchVerifier, createVerifierFromConfig, resolveConfig } from "@apo-rl/trainer";

/**
 * Reward settings of a benchmark, with the trainer's meaning (see docs/trainer.md, `reward`).
 *
 * @since 0.1.0
 * @category rewards
 */
export interface RewardSettings {
  /** `view-r1`: accuracy · 1 + format · 0.5; `accuracy`: the accuracy verifier alone. */
  readonly preset: "view-r1" | "accuracy";
  readonly accuracy: "math" | "counting" | "choice";
  /** Verifier worker threads (0 = in this thread). */
  readonly workers: number;
}

/**
 * The batch verifier the trainer would build for these reward settings (the same composite, the
 * same worker pool), so that evaluation and training score responses identically.
 *
 * @since 0.1.0
 * @category rewards
 */
export const createRewardVerifier = (settings: RewardSettings): Promise<BatchVerifier> =>
  createVerifierFromConfig(
    resolveConfig(
      {
        model: { checkpoint: "bench" },
        data: { format: "synthetic" },
        train: { steps: 1 },
        reward: { preset: settings.preset, accuracy: settings.accuracy, workers: settings.workers },
      },
      "bench reward settings",
    ),
  );

/**
 * The reference check of an evaluation file: each row's answer must be readable by the accuracy
 * verifier of these settings (as the trainer checks its data), else the row is an error naming it,
 * or skipped and counted with `--skip-invalid`.
 *
 * @since 0.1.0
 * @category rewards
 */
export const createReferenceCheck = (settings: RewardSettings): ((reference: string) => string | undefined) =>
  referenceCheck({ math: mathAnswer, counting, choice }[settings.accuracy]());
