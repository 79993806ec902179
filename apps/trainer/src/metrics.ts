import type { MechanismMetrics } from "./mechanismMetrics.js";
import type { ScoredGroup } from "./scoring.js";

/**
 * Statistics of a batch of scored rollouts. `null` means "not measurable here" (e.g. no correct
 * sample, or no format component in the reward).
 *
 * @since 0.1.0
 * @category metrics
 */
export interface RolloutStatistics {
  readonly reward: number;
  readonly accuracy: number;
  /** Fraction of samples whose `format` reward component is positive. */
  readonly formatRate: number | null;
  readonly meanLength: number;
  readonly meanLengthCorrect: number | null;
  readonly meanLengthIncorrect: number | null;
  /** Fraction of groups whose rewards are all equal (no learning signal). */
  readonly zeroSpreadFraction: number;
  readonly samples: number;
  readonly generatedTokens: number;
}

const mean = (values: ReadonlyArray<number>): number | null =>
  values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;

/**
 * Compute {@link RolloutStatistics} over scored groups.
 *
 * @since 0.1.0
 * @category metrics
 */
export const rolloutStatistics = (groups: ReadonlyArray<ScoredGroup>): RolloutStatistics => {
  const scored = groups.flatMap((group) => group.rollouts);
  const lengths = scored.map((sample) => sample.rollout.tokenIds.length);
  const withFormat = scored.filter((sample) => sample.rewardBreakdown["format"] !== undefined);
  return {
    reward: mean(scored.map((sample) => sample.reward)) ?? 0,
    accuracy: mean(scored.map((sample) => (sample.correct ? 1 : 0))) ?? 0,
    formatRate:
      withFormat.length === 0
        ? null
        : withFormat.filter((sample) => sample.rewardBreakdown["format"]! > 0).length / withFormat.length,
    meanLength: mean(lengths) ?? 0,
    meanLengthCorrect: mean(
      scored.filter((sample) => sample.correct).map((sample) => sample.rollout.tokenIds.length),
    ),
    meanLengthIncorrect: mean(
      scored.filter((sample) => !sample.correct).map((sample) => sample.rollout.tokenIds.length),
    ),
    zeroSpreadFraction:
      groups.length === 0
        ? 0
        : groups.filter((group) =>
            group.rollouts.every((sample) => sample.reward === group.rollouts[0]!.reward),
          ).length / groups.length,
    samples: scored.length,
    generatedTokens: lengths.reduce((sum, length) => sum + length, 0),
  };
};

/**
 * One line of `metrics.jsonl` for a training step.
 *
 * @since 0.1.0
 * @category metrics
 */
export interface TrainStepRecord extends RolloutStatistics, Partial<MechanismMetrics> {
  readonly kind: "train";
  /** 1-based number of the step just taken. */
  readonly step: number;
  readonly lr: number;
  readonly loss: number | null;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number | null;
  /** Mean per-token k3 estimate of KL(π ‖ π_ref) over response tokens, when the reference is used. */
  readonly kl: number | null;
  /** Mean per-token entropy of the policy over response tokens, when the policy reports it. */
  readonly entropy: number | null;
  readonly clipFraction: number | null;
  readonly dadsWeight: number | null;
  readonly stcrScale: number | null;
  readonly tokensPerSecond: number;
  readonly stepSeconds: number;
  readonly generationSeconds: number;
  readonly memoryBytes: number;
  readonly numTensors: number;
  /** Whether the update was skipped (non-finite loss or gradient). */
  readonly skipped: boolean;
  readonly skipReason: string | null;
  /** Every metric the objective reported, averaged over micro-batches. */
  readonly objective: Readonly<Record<string, number>>;
}

/**
 * One line of `metrics.jsonl` for an evaluation on the held-out set.
 *
 * @since 0.1.0
 * @category metrics
 */
export interface EvaluationRecord {
  readonly kind: "eval";
  /** Number of training steps taken before this evaluation. */
  readonly step: number;
  readonly accuracy: number;
  readonly reward: number;
  readonly formatRate: number | null;
  readonly meanLength: number;
  readonly samples: number;
  readonly seconds: number;
}

/**
 * A line of `metrics.jsonl`.
 *
 * @since 0.1.0
 * @category metrics
 */
export type MetricsRecord = TrainStepRecord | EvaluationRecord;

/**
 * Names under which objectives report the headline metrics, first match wins: @apo-rl/objectives'
 * names first (`clipFraction`, `dadsWeightPositiveMean`, `stcrScalePenalisedMean`, `kl`), then
 * common spellings of contributed objectives.
 */
const aliases = {
  clipFraction: ["clipFraction", "clip_fraction", "clipfrac"],
  dadsWeight: ["dadsWeightPositiveMean", "dadsWeight", "dads_weight"],
  stcrScale: ["stcrScalePenalisedMean", "stcrScale", "stcr_scale"],
  kl: ["kl", "klMean"],
} as const;

/**
 * Pick a headline metric (`clipFraction`, `dadsWeight`, `stcrScale`, `kl`) out of an objective's
 * metrics, whichever of its usual names the objective uses.
 *
 * @since 0.1.0
 * @category metrics
 */
export const headlineMetric = (
  metrics: Readonly<Record<string, number>>,
  name: keyof typeof aliases,
): number | null => {
  for (const key of aliases[name]) {
    const value = metrics[key];
    if (value !== undefined && Number.isFinite(value)) return value;
  }
  return null;
};
