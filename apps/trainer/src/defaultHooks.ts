import { createObjective } from "@apo-rl/objectives";
import {
  type BuiltinVerifier,
  choice,
  composite,
  counting,
  createVerifierPool,
  format,
  mathAnswer,
} from "@apo-rl/rewards";
import { initBackend } from "@apo-rl/tensor";
import { type BatchVerifier, inProcessBatchVerifier } from "./BatchVerifier.js";
import { createTrainingData } from "./createTrainingData.js";
import { qwenPolicyFromConfig } from "./qwen/qwenPolicyFromConfig.js";
import type { TensorObjective, TrainablePolicy } from "./TrainablePolicy.js";
import type { TrainerConfig } from "./TrainerConfig.js";
import type { TrainerHooks } from "./TrainerHooks.js";

/**
 * Initialise the backend named by `config.backend` (`auto`: @apo-rl/tensor's order) and return
 * the chosen backend's name.
 *
 * @since 0.1.0
 * @category hooks
 */
export const initBackendFromConfig = async (config: TrainerConfig): Promise<string> => {
  const report = await initBackend(config.backend === "auto" ? undefined : config.backend);
  return report.chosen;
};

/**
 * Build the objective named in `config.objective` from @apo-rl/objectives' registry (options are
 * decoded by the objective: a bad option fails naming it).
 *
 * @since 0.1.0
 * @category hooks
 */
export const createObjectiveFromConfig = (config: TrainerConfig): TensorObjective =>
  createObjective(config.objective.name, config.objective.options);

const accuracyVerifiers = { math: mathAnswer, counting, choice } as const;

/**
 * The verifier described by `config.reward` (without the pool): the accuracy verifier, or for the
 * `view-r1` preset the composite `weights.accuracy · accuracy + weights.format · format` whose
 * `correct` comes from the accuracy part alone.
 *
 * @since 0.1.0
 * @category hooks
 */
export const verifierFromConfig = (config: TrainerConfig): BuiltinVerifier => {
  const accuracy = accuracyVerifiers[config.reward.accuracy]();
  if (config.reward.preset === "accuracy") return accuracy;
  return composite({
    parts: {
      accuracy: { verifier: accuracy, weight: config.reward.weights.accuracy },
      format: { verifier: format(), weight: config.reward.weights.format },
    },
    correctFrom: "accuracy",
  });
};

/**
 * Build the batch verifier of `config.reward`: @apo-rl/rewards' worker pool (`workers` threads, hard
 * `timeoutMs`), or in this thread when `workers` is 0.
 *
 * @since 0.1.0
 * @category hooks
 */
export const createVerifierFromConfig = async (config: TrainerConfig): Promise<BatchVerifier> => {
  const verifier = verifierFromConfig(config);
  return config.reward.workers === 0
    ? inProcessBatchVerifier(verifier)
    : createVerifierPool(verifier, { threads: config.reward.workers, timeLimitMs: config.reward.timeoutMs });
};

/**
 * Build the policy of `config.model`: the Qwen2.5-VL policy of a checkpoint directory, or of the
 * embedded demo's SFT checkpoint for `demo` (see `qwenPolicyFromConfig`).
 *
 * @since 0.1.0
 * @category hooks
 */
export const createPolicyFromConfig = (config: TrainerConfig): Promise<TrainablePolicy> =>
  qwenPolicyFromConfig(config);

/**
 * The hooks `train` uses for every hook not given.
 *
 * @since 0.1.0
 * @category hooks
 */
export const defaultTrainerHooks: TrainerHooks = {
  initBackend: initBackendFromConfig,
  createPolicy: createPolicyFromConfig,
  createObjective: createObjectiveFromConfig,
  createVerifier: createVerifierFromConfig,
  createData: createTrainingData,
};
