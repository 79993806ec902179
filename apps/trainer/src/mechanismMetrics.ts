import { mechanismTelemetryNames } from "@apo-rl/objectives";
/**
 * What APO's two mechanisms did in one training step, read from the objective's metrics
 * (`mechanismTelemetry` of @apo-rl/objectives); `null` when the objective does not report it (a
 * contributed objective, or no sample with a positive advantage for the DADS weights):
 * - `stcrPenalisedFraction`: of the incorrect samples, the fraction STCR penalises (scale > 1);
 * - `stcrMeanScale`: their mean STCR scale;
 * - `dadsWeightMean` / `dadsWeightMin` / `dadsWeightMax`: the KL weights of the positive-advantage
 *   samples (the ones DADS re-weights);
 * - `difficultyMean`: the mean group difficulty `d = 1 − correct / G`;
 * - `klShareOfLoss`: `|klLoss| / (|policyLoss| + |klLoss|)`.
 *
 * @since 0.1.0
 * @category metrics
 */
export type MechanismMetrics = {
  readonly [Name in (typeof mechanismTelemetryNames)[number]]: number | null;
};

/**
 * The names of {@link MechanismMetrics}, in order: the objectives' telemetry names.
 *
 * @since 0.1.0
 * @category metrics
 */
export const mechanismMetricNames = mechanismTelemetryNames;

const finite = (records: ReadonlyArray<Readonly<Record<string, number>>>, key: string): number[] =>
  records.flatMap((record) => {
    const value = record[key];
    return value !== undefined && Number.isFinite(value) ? [value] : [];
  });

/**
 * Combine the micro-batches' objective metrics of one step into {@link MechanismMetrics}: the
 * minimum of `dadsWeightMin`, the maximum of `dadsWeightMax`, the mean of the others (micro-batches
 * hold whole groups, so their means weigh alike when they are of equal size).
 *
 * @since 0.1.0
 * @category metrics
 */
export const mechanismMetrics = (
  microBatches: ReadonlyArray<Readonly<Record<string, number>>>,
): MechanismMetrics => {
  const combine = (key: (typeof mechanismMetricNames)[number]): number | null => {
    const values = finite(microBatches, key);
    if (values.length === 0) return null;
    if (key === "dadsWeightMin") return Math.min(...values);
    if (key === "dadsWeightMax") return Math.max(...values);
    return values.reduce((sum, value) => sum + value, 0) / values.length;
  };
  return Object.fromEntries(
    mechanismMetricNames.map((key) => [key, combine(key)]),
  ) as unknown as MechanismMetrics;
};
