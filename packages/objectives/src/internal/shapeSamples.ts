import type { SampleBatch } from "@apo-rl/core";
import type { AdvantageEstimator } from "../AdvantageEstimator.js";
import { type DadsForm, dadsWeights } from "../dadsWeights.js";
import { zeroSpreadGroupFraction } from "../groupStatistics.js";
import { overlongPenalty } from "../overlongPenalty.js";
import { stcrPenalised, stcrScales } from "../stcrScales.js";

/** The sample-level (float64) part of an objective's configuration. */
export interface SampleShaping {
  readonly estimator: AdvantageEstimator;
  readonly overlong?: { readonly maxLength: number; readonly buffer: number } | undefined;
  readonly dads?: { readonly form: DadsForm } | undefined;
  readonly stcr?: { readonly base: number } | undefined;
}

/** Per-sample quantities, all float64. */
export interface ShapedSamples {
  /** Rewards after overlong shaping. */
  readonly rewards: ReadonlyArray<number>;
  /** Group-normalised advantages, STCR-scaled when STCR is on. */
  readonly advantages: ReadonlyArray<number>;
  /** DADS KL weights (all 1 when DADS is off). */
  readonly klWeights: ReadonlyArray<number>;
  /** STCR scales (all 1 when STCR is off). */
  readonly stcrScales: ReadonlyArray<number>;
  /** The samples STCR penalises (none when STCR is off). */
  readonly stcrPenalised: ReadonlyArray<boolean>;
  /** Fraction of groups whose (shaped) rewards are all equal. */
  readonly zeroSpreadGroupFraction: number;
  /** The estimator's own metrics. */
  readonly estimatorMetrics: Readonly<Record<string, number>>;
}

/**
 * Rewards → (overlong shaping) → group advantages → (STCR scales) → (DADS weights), in float64.
 */
export const shapeSamples = (
  rewards: ReadonlyArray<number>,
  correct: ReadonlyArray<boolean>,
  lengths: ReadonlyArray<number>,
  groupSize: number,
  shaping: SampleShaping,
): ShapedSamples => {
  const penalties = shaping.overlong === undefined ? undefined : overlongPenalty(lengths, shaping.overlong);
  const shaped =
    penalties === undefined ? rewards : rewards.map((reward, sample) => reward + penalties[sample]!);
  const batch: SampleBatch = { rewards: shaped, correct, lengths, groupSize };
  const estimate = shaping.estimator(batch);
  const centred = estimate.advantage;
  const scales =
    shaping.stcr === undefined
      ? centred.map(() => 1)
      : stcrScales(correct, lengths, groupSize, { base: shaping.stcr.base });
  const advantages = centred.map((advantage, sample) => advantage * scales[sample]!);
  const klWeights =
    shaping.dads === undefined
      ? centred.map(() => 1)
      : dadsWeights(correct, advantages, groupSize, { form: shaping.dads.form });
  return {
    rewards: shaped,
    advantages,
    klWeights,
    stcrScales: scales,
    stcrPenalised:
      shaping.stcr === undefined ? centred.map(() => false) : stcrPenalised(correct, lengths, groupSize),
    zeroSpreadGroupFraction: zeroSpreadGroupFraction(shaped, groupSize),
    estimatorMetrics: estimate.metrics ?? {},
  };
};
