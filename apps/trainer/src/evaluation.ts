import type { BatchVerifier } from "./BatchVerifier.js";
import type { EvaluationRecord } from "./metrics.js";
import { rolloutStatistics } from "./metrics.js";
import { groupRollouts, type ScoredGroup, scoreGroups, uniqueRequests } from "./scoring.js";
import type { TrainablePolicy } from "./TrainablePolicy.js";
import type { TrainingExample } from "./TrainingData.js";

/**
 * How to evaluate: one response per held-out prompt at `temperature` (0 = greedy).
 *
 * @since 0.1.0
 * @category evaluation
 */
export interface EvaluationOptions {
  readonly temperature: number;
  readonly maxNewTokens: number;
  readonly seed: number;
  /** Prompts per `generate` call. */
  readonly batchSize: number;
  readonly stopStrings?: ReadonlyArray<string>;
}

/**
 * Accuracy, mean reward, format rate and mean length of one response per held-out prompt.
 *
 * @since 0.1.0
 * @category evaluation
 */
export const evaluate = async (
  policy: TrainablePolicy,
  verifier: BatchVerifier,
  examples: ReadonlyArray<TrainingExample>,
  options: EvaluationOptions,
  step: number,
): Promise<EvaluationRecord> => {
  const started = performance.now();
  const groups: ScoredGroup[] = [];
  for (let start = 0; start < examples.length; start += options.batchSize) {
    const chunk = examples.slice(start, start + options.batchSize);
    const requests = uniqueRequests(chunk);
    const rollouts = await policy.generate(requests, {
      n: 1,
      temperature: options.temperature,
      maxNewTokens: options.maxNewTokens,
      seed: (options.seed + start) >>> 0,
      ...(options.stopStrings !== undefined && options.stopStrings.length > 0
        ? { stopStrings: options.stopStrings }
        : {}),
    });
    groups.push(...(await scoreGroups(chunk, requests, groupRollouts(requests, rollouts, 1), verifier)));
  }
  const statistics = rolloutStatistics(groups);
  return {
    kind: "eval",
    step,
    accuracy: statistics.accuracy,
    reward: statistics.reward,
    formatRate: statistics.formatRate,
    meanLength: statistics.meanLength,
    samples: statistics.samples,
    seconds: (performance.now() - started) / 1000,
  };
};
