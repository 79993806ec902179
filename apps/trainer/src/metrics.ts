import type { ObjectiveMetricName } from "@apo-rl/core";
import type { MechanismMetrics } from "./mechanismMetrics.js";
import type { RolloutServiceRecord } from "./rollout/RolloutSource.js";
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
  readonly zeroSpreadGroupFraction: number;
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
    zeroSpreadGroupFraction:
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
  /** What the remote rollout backend did (servers, weight version, failovers), when rollouts are remote. */
  readonly rolloutService?: RolloutServiceRecord;
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
 * A dataset row left out of the run: at load (`load`: a bad header, too many pixels or tokens, with
 * `--skip-invalid`), for the held-out set (`held-out`: an image that does not fully decode), or when
 * drawn for a step (`draw`: the same; another row takes its place).
 *
 * @since 0.1.0
 * @category metrics
 */
export interface SkippedRowRecord {
  readonly kind: "skipped-row";
  /** The step the row was drawn for (0 at load). */
  readonly step: number;
  readonly phase: "load" | "held-out" | "draw";
  readonly promptId?: string;
  readonly file?: string;
  readonly row?: number;
  readonly reason: string;
}

/**
 * A line of `metrics.jsonl`.
 *
 * @since 0.1.0
 * @category metrics
 */
export type MetricsRecord = TrainStepRecord | EvaluationRecord | SkippedRowRecord;

/** The contract name (`@apo-rl/core`'s `objectiveMetricNames`) behind each headline column. */
const headlines = {
  clipFraction: "clipFraction",
  dadsWeight: "dadsWeightPositiveMean",
  stcrScale: "stcrScalePenalisedMean",
  kl: "kl",
  entropy: "entropy",
} as const satisfies Record<string, ObjectiveMetricName>;

/**
 * A headline metric (`clipFraction`, `dadsWeight`, `stcrScale`, `kl`, `entropy`) out of an
 * objective's metrics, under its one contract name; `null` when absent or not finite.
 *
 * @since 0.1.0
 * @category metrics
 */
export const headlineMetric = (
  metrics: Readonly<Record<string, number>>,
  name: keyof typeof headlines,
): number | null => {
  const value = metrics[headlines[name]];
  return value !== undefined && Number.isFinite(value) ? value : null;
};
