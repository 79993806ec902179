import { createObjective } from "@apo-rl/objectives";
import { initBackend } from "@apo-rl/tensor";
import { createTrainingData } from "./createTrainingData.js";
import { TrainerSetupError } from "./errors.js";
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

/**
 * Build the policy of `config.model`. The Qwen2.5-VL policy (a checkpoint directory or `demo`) is
 * plugged in here; until then pass `hooks.createPolicy` to `train`.
 *
 * @since 0.1.0
 * @category hooks
 */
export const createPolicyFromConfig = async (config: TrainerConfig): Promise<TrainablePolicy> => {
  throw new TrainerSetupError({
    component: "policy",
    reason: `no policy factory for model.checkpoint ${JSON.stringify(config.model.checkpoint)} yet: pass hooks.createPolicy to train()`,
  });
};

/**
 * The hooks `train` uses for every hook not given.
 *
 * @since 0.1.0
 * @category hooks
 */
export const defaultTrainerHooks: Omit<TrainerHooks, "createVerifier"> &
  Partial<Pick<TrainerHooks, "createVerifier">> = {
  initBackend: initBackendFromConfig,
  createPolicy: createPolicyFromConfig,
  createObjective: createObjectiveFromConfig,
  createData: createTrainingData,
};
