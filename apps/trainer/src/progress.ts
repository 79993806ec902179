import type { EvaluationRecord, TrainStepRecord } from "./metrics.js";

/**
 * Human-readable duration: `45s`, `3m12s`, `2h05m`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const formatDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, "0")}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, "0")}m`;
};

const number = (value: number | null, digits = 3): string =>
  value === null
    ? "-"
    : Math.abs(value) >= 1e4 || (value !== 0 && Math.abs(value) < 1e-3)
      ? value.toExponential(1)
      : value.toFixed(digits);

/**
 * The console progress line of a step: a bar, ETA from the mean step time so far, and the key numbers.
 *
 * @since 0.1.0
 * @category metrics
 */
export const formatProgressLine = (
  record: TrainStepRecord,
  totalSteps: number,
  secondsPerStep: number,
  barWidth = 20,
): string => {
  const fraction = Math.min(1, record.step / totalSteps);
  const filled = Math.round(fraction * barWidth);
  const bar = `${"=".repeat(Math.max(0, filled - 1))}${filled > 0 ? ">" : ""}${" ".repeat(barWidth - filled)}`;
  const eta = formatDuration((totalSteps - record.step) * secondsPerStep);
  const lengths = `${number(record.meanLengthCorrect, 0)}/${number(record.meanLengthIncorrect, 0)}`;
  return [
    `step ${record.step}/${totalSteps} [${bar}] ${Math.round(fraction * 100)}% ETA ${eta}`,
    `reward ${number(record.reward)} acc ${number(record.accuracy)} fmt ${number(record.formatRate, 2)} len ${lengths}`,
    `loss ${number(record.loss, 4)} kl ${number(record.kl, 4)} ent ${number(record.entropy)} clip ${number(record.clipFraction)}`,
    `${number(record.stepSeconds, 1)}s/step ${Math.round(record.tokensPerSecond)} tok/s${record.skipped ? ` SKIPPED (${record.skipReason})` : ""}`,
  ].join(" | ");
};

/**
 * The console line of an evaluation.
 *
 * @since 0.1.0
 * @category metrics
 */
export const formatEvaluationLine = (record: EvaluationRecord): string =>
  `eval after step ${record.step}: held-out accuracy ${number(record.accuracy)} reward ${number(record.reward)} format ${number(record.formatRate, 2)} (${record.samples} prompts, ${number(record.seconds, 1)}s)`;
