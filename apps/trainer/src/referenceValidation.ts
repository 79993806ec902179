import { choice, counting, mathAnswer, referenceCheck } from "@apo-rl/rewards";
import type { TrainerConfig } from "./TrainerConfig.js";

/**
 * The reference check of a dataset load: every row's answer is read by the accuracy verifier of
 * `config.reward.accuracy` (`math`, `counting`, `choice`). A reference it cannot read (`\frac{1}{`,
 * a count without a number) is that row's problem: the load fails naming the row, or with
 * `data.skipInvalid` (`--skip-invalid`) the row is skipped and counted. Such a reference would
 * otherwise score 0 for every response, forever.
 *
 * @since 0.1.0
 * @category data
 */
export const referenceValidatorFromConfig = (
  config: TrainerConfig,
): ((reference: string) => string | undefined) =>
  referenceCheck({ math: mathAnswer, counting, choice }[config.reward.accuracy]());
