import type { DatasetItem } from "@apo-rl/datasets";
import {
  type BatchVerifier,
  groupRollouts,
  type ScoredGroup,
  scoreGroups,
  type TrainablePolicy,
  toTrainingExample,
  uniqueRequests,
} from "@apo-rl/trainer";
import { mean, passAtK, standardDeviation } from "../statistics.js";

/**
 * How `apo-bench eval` samples: `samples` responses per prompt at `temperature` (0 = greedy, one
 * sample).
 *
 * @since 0.1.0
 * @category eval
 */
export interface EvaluationSettings {
  readonly samples: number;
  readonly temperature: number;
  readonly maxNewTokens: number;
  readonly seed: number;
  /** Prompts per `generate` call. */
  readonly batchSize: number;
  /** The `k` of pass@k; each must be ≤ `samples`. Default: 1, 2, 4, … up to `samples`, and `samples`. */
  readonly passAtK?: ReadonlyArray<number>;
}

/**
 * Quality numbers of a set of prompts (all of them, or one category).
 *
 * @since 0.1.0
 * @category eval
 */
export interface EvaluationSummary {
  readonly prompts: number;
  readonly samples: number;
  /** Fraction of all sampled responses that are correct (the mean pass@1 estimate). */
  readonly accuracy: number;
  /** Fraction of responses with a positive `format` reward component; `null` without one. */
  readonly formatRate: number | null;
  readonly meanReward: number;
  readonly meanLength: number;
  readonly meanLengthCorrect: number | null;
  readonly meanLengthIncorrect: number | null;
  /** Sample standard deviation of the incorrect responses' lengths (`null` for none). */
  readonly lengthStdIncorrect: number | null;
  /** `k` → mean over prompts of the unbiased pass@k estimate. */
  readonly passAtK: Readonly<Record<string, number>>;
}

/**
 * The outcome of one prompt.
 *
 * @since 0.1.0
 * @category eval
 */
export interface PromptOutcome {
  readonly id: string;
  readonly category: string;
  readonly answer: string;
  readonly correct: number;
  readonly samples: number;
  /** The first response, for inspection. */
  readonly firstResponse: string;
}

/**
 * @since 0.1.0
 * @category eval
 */
export interface EvaluationResults {
  readonly overall: EvaluationSummary;
  readonly categories: Readonly<Record<string, EvaluationSummary>>;
  readonly prompts: ReadonlyArray<PromptOutcome>;
  readonly seconds: number;
}

/**
 * The default `k`s: powers of two below `samples`, and `samples`.
 *
 * @since 0.1.0
 * @category eval
 */
export const defaultPassAtK = (samples: number): ReadonlyArray<number> => {
  const ks: number[] = [];
  for (let k = 1; k < samples; k *= 2) ks.push(k);
  ks.push(samples);
  return ks;
};

const summarise = (groups: ReadonlyArray<ScoredGroup>, ks: ReadonlyArray<number>): EvaluationSummary => {
  const scored = groups.flatMap((group) => group.rollouts);
  const lengths = (filter: (correct: boolean) => boolean) =>
    scored.filter((sample) => filter(sample.correct)).map((sample) => sample.rollout.tokenIds.length);
  const withFormat = scored.filter((sample) => sample.rewardBreakdown["format"] !== undefined);
  return {
    prompts: groups.length,
    samples: scored.length,
    accuracy: mean(scored.map((sample) => (sample.correct ? 1 : 0))) ?? 0,
    formatRate:
      withFormat.length === 0
        ? null
        : withFormat.filter((sample) => sample.rewardBreakdown["format"]! > 0).length / withFormat.length,
    meanReward: mean(scored.map((sample) => sample.reward)) ?? 0,
    meanLength: mean(lengths(() => true)) ?? 0,
    meanLengthCorrect: mean(lengths((correct) => correct)),
    meanLengthIncorrect: mean(lengths((correct) => !correct)),
    lengthStdIncorrect: standardDeviation(lengths((correct) => !correct)),
    passAtK: Object.fromEntries(
      ks.map((k) => [
        String(k),
        mean(
          groups.map((group) =>
            passAtK(group.rollouts.length, group.rollouts.filter((sample) => sample.correct).length, k),
          ),
        ) ?? 0,
      ]),
    ),
  };
};

/**
 * Sample `samples` responses per item, verify them and summarise: accuracy, format rate, mean
 * response length (all / correct / incorrect), pass@k, and the same per category (items without a
 * category count as `"all"`).
 *
 * @since 0.1.0
 * @category eval
 */
export const evaluatePolicy = async (
  policy: TrainablePolicy,
  verifier: BatchVerifier,
  items: ReadonlyArray<DatasetItem>,
  settings: EvaluationSettings,
): Promise<EvaluationResults> => {
  const started = performance.now();
  const ks = settings.passAtK ?? defaultPassAtK(settings.samples);
  const groups: ScoredGroup[] = [];
  for (let start = 0; start < items.length; start += settings.batchSize) {
    const chunk = items.slice(start, start + settings.batchSize).map(toTrainingExample);
    const requests = uniqueRequests(chunk);
    const rollouts = await policy.generate(requests, {
      n: settings.samples,
      temperature: settings.temperature,
      maxNewTokens: settings.maxNewTokens,
      seed: (settings.seed + start) >>> 0,
    });
    groups.push(
      ...(await scoreGroups(chunk, requests, groupRollouts(requests, rollouts, settings.samples), verifier)),
    );
  }
  const categoryOf = (index: number) => items[index]!.category ?? "all";
  const categories = [...new Set(items.map((_, index) => categoryOf(index)))].sort();
  return {
    overall: summarise(groups, ks),
    categories: Object.fromEntries(
      categories.map((category) => [
        category,
        summarise(
          groups.filter((_, index) => categoryOf(index) === category),
          ks,
        ),
      ]),
    ),
    prompts: groups.map((group, index) => ({
      id: items[index]!.id,
      category: categoryOf(index),
      answer: group.example.answer,
      correct: group.rollouts.filter((sample) => sample.correct).length,
      samples: group.rollouts.length,
      firstResponse: group.rollouts[0]?.rollout.text ?? "",
    })),
    seconds: (performance.now() - started) / 1000,
  };
};
