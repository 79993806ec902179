import type { GenerationOptions, GenerationRequest, Rollout } from "@apo-rl/core";
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
  /**
   * Where the responses come from (default: `policy.generate` in this process, `batchSize` prompts
   * per call, seeded `seed + start`). Given (rollout servers), every prompt goes in one call with
   * `seed`, and the servers spread and batch them.
   */
  readonly generate?: (
    requests: ReadonlyArray<GenerationRequest>,
    options: GenerationOptions,
  ) => Promise<ReadonlyArray<Rollout>>;
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
  const chunkSize = options.generate === undefined ? options.batchSize : Math.max(examples.length, 1);
  const generate = options.generate ?? ((requests, generation) => policy.generate(requests, generation));
  for (let start = 0; start < examples.length; start += chunkSize) {
    const chunk = examples.slice(start, start + chunkSize);
    const requests = uniqueRequests(chunk);
    const rollouts = await generate(requests, {
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
