import { difficulty } from "./difficulty.js";
import { checkFinite, checkLength, groupCount } from "./internal/groups.js";

/**
 * The names of the mechanism telemetry ({@link mechanismTelemetry}, {@link klShareOfLoss}), in
 * order:
 * - `stcrPenalisedFraction`: of the incorrect samples, the fraction whose STCR scale is above 1 (0
 *   without STCR or without incorrect samples);
 * - `stcrMeanScale`: the mean STCR scale of those penalised samples (1 when none is);
 * - `dadsWeightMean` / `dadsWeightMin` / `dadsWeightMax`: the KL weights of the samples with a
 *   positive advantage, the ones DADS re-weights (all 1 without DADS; absent when no sample has a
 *   positive advantage);
 * - `difficultyMean`: the mean over groups of DADS's difficulty `d = 1 − correct / G`;
 * - `klShareOfLoss`: `|klLoss| / (|policyLoss| + |klLoss|)`, the KL term's share of the loss's
 *   magnitude (absent when both are 0).
 *
 * @since 0.1.0
 * @category metrics
 */
export const mechanismTelemetryNames = [
  "stcrPenalisedFraction",
  "stcrMeanScale",
  "dadsWeightMean",
  "dadsWeightMin",
  "dadsWeightMax",
  "difficultyMean",
  "klShareOfLoss",
] as const;

/**
 * The per-sample quantities the telemetry is computed from, `[S]` each, `S = groups × groupSize`.
 *
 * @since 0.1.0
 * @category metrics
 */
export interface MechanismSamples {
  readonly correct: ReadonlyArray<boolean>;
  /** Final advantages (STCR-scaled when STCR is on); DADS acts on the positive ones. */
  readonly advantages: ReadonlyArray<number>;
  /** Per-sample KL weights (DADS weights, or 1). */
  readonly klWeights: ReadonlyArray<number>;
  /** Per-sample STCR scales (or 1). */
  readonly stcrScales: ReadonlyArray<number>;
  readonly groupSize: number;
}

const average = (values: ReadonlyArray<number>): number =>
  values.reduce((sum, value) => sum + value, 0) / values.length;

/**
 * What DADS and STCR did to one batch (see {@link mechanismTelemetryNames}): the STCR-penalised
 * fraction of the incorrect samples and their mean scale, the distribution of the DADS weights over
 * positive-advantage samples, and the mean group difficulty. Pure float64; throws core's
 * `InvalidInputError` when lengths disagree or a value is not finite.
 *
 * @since 0.1.0
 * @category metrics
 */
export const mechanismTelemetry = (samples: MechanismSamples): Record<string, number> => {
  const { correct, advantages, klWeights, stcrScales, groupSize } = samples;
  groupCount("mechanismTelemetry", correct.length, groupSize);
  for (const [field, values] of [
    ["advantages", advantages],
    ["klWeights", klWeights],
    ["stcrScales", stcrScales],
  ] as const) {
    checkLength("mechanismTelemetry", field, values, correct.length);
    checkFinite("mechanismTelemetry", field, values);
  }
  const incorrect = correct.flatMap((isCorrect, sample) => (isCorrect ? [] : [sample]));
  const penalised = incorrect.filter((sample) => stcrScales[sample]! > 1);
  const positiveWeights = klWeights.filter((_, sample) => advantages[sample]! > 0);
  const metrics: Record<string, number> = {
    stcrPenalisedFraction: incorrect.length === 0 ? 0 : penalised.length / incorrect.length,
    stcrMeanScale: penalised.length === 0 ? 1 : average(penalised.map((sample) => stcrScales[sample]!)),
    difficultyMean: average(difficulty(correct, groupSize)),
  };
  if (positiveWeights.length > 0) {
    metrics["dadsWeightMean"] = average(positiveWeights);
    metrics["dadsWeightMin"] = Math.min(...positiveWeights);
    metrics["dadsWeightMax"] = Math.max(...positiveWeights);
  }
  return metrics;
};

/**
 * The KL term's share of the loss: `|klLoss| / (|policyLoss| + |klLoss|)`, in `[0, 1]`;
 * `undefined` when both terms are 0.
 *
 * @since 0.1.0
 * @category metrics
 */
export const klShareOfLoss = (policyLoss: number, klLoss: number): number | undefined => {
  const total = Math.abs(policyLoss) + Math.abs(klLoss);
  return total > 0 && Number.isFinite(total) ? Math.abs(klLoss) / total : undefined;
};
