import type { BatchVerifier } from "./BatchVerifier.js";
import type { RolloutSource } from "./rollout/RolloutSource.js";
import type { TensorObjective, TrainablePolicy } from "./TrainablePolicy.js";
import type { TrainerConfig } from "./TrainerConfig.js";
import type { TrainingData } from "./TrainingData.js";

/**
 * The extension points of the trainer: how each component of a run is built from the config.
 * `train` uses the defaults (see `defaultTrainerHooks`) for every hook not given.
 *
 * @since 0.1.0
 * @category hooks
 */
export interface TrainerHooks {
  /** Select and initialise the tfjs backend; returns its name. */
  readonly initBackend: (config: TrainerConfig) => Promise<string>;
  /** Build the policy from `config.model` (checkpoint directory or `demo`). */
  readonly createPolicy: (config: TrainerConfig) => Promise<TrainablePolicy>;
  /** Build the objective from `config.objective` (the objective registry by default). */
  readonly createObjective: (config: TrainerConfig) => TensorObjective;
  /** Build the reward verifier from `config.reward`. `close` is called at the end of the run. */
  readonly createVerifier: (config: TrainerConfig) => Promise<BatchVerifier>;
  /** Load the training stream and the held-out set from `config.data`. */
  readonly createData: (config: TrainerConfig) => Promise<TrainingData>;
  /**
   * Whether the run computes reference log-probs (`logpRef`); by default, when the objective's own
   * `usesReference` is true at some step.
   */
  readonly usesReference?: (config: TrainerConfig) => boolean;
  /**
   * Where the training rollouts come from (default: `createRolloutSourceFromConfig`, in-process
   * unless `rollout.servers` or `rollout.spawn`). `close` is called at the end of the run.
   * `run.useReference`: whether the run uses a reference policy (servers may score it).
   */
  readonly createRolloutSource?: (
    config: TrainerConfig,
    policy: TrainablePolicy,
    backend: string,
    run: { readonly useReference: boolean },
  ) => Promise<RolloutSource>;
}
