import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type ChartSeries, escapeXml, lineChartSvg } from "./lineChart.js";
import type { MechanismMetrics } from "./mechanismMetrics.js";
import type { EvaluationRecord, MetricsRecord, TrainStepRecord } from "./metrics.js";

/**
 * Read `metrics.jsonl` (blank or malformed lines are skipped).
 *
 * @since 0.1.0
 * @category report
 */
export const readMetrics = async (file: string): Promise<ReadonlyArray<MetricsRecord>> => {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.split("\n").flatMap((line) => {
    if (line.trim() === "") return [];
    try {
      return [JSON.parse(line) as MetricsRecord];
    } catch {
      return [];
    }
  });
};

type NumericKey = {
  [K in keyof TrainStepRecord]-?: TrainStepRecord[K] extends number | null ? K : never;
}[keyof TrainStepRecord];

const trainSeries = (
  records: ReadonlyArray<TrainStepRecord>,
  key: NumericKey,
  name: string = key,
): ChartSeries => ({
  name,
  points: records.map((record) => [record.step, record[key] as number | null] as const),
});

/** A mechanism metric's series (absent in records written before it existed: no point). */
const mechanismSeries = (
  records: ReadonlyArray<TrainStepRecord>,
  key: keyof MechanismMetrics,
  name: string,
): ChartSeries => ({
  name,
  points: records.map((record) => [record.step, record[key] ?? null] as const),
});

const charts = (records: ReadonlyArray<MetricsRecord>): string[] => {
  const train = records.filter((record): record is TrainStepRecord => record.kind === "train");
  const evaluations = records.filter((record): record is EvaluationRecord => record.kind === "eval");
  return [
    lineChartSvg({ title: "Reward", series: [trainSeries(train, "reward", "train reward")] }),
    lineChartSvg({
      title: "Accuracy",
      series: [
        trainSeries(train, "accuracy", "train (sampled)"),
        { name: "held-out", points: evaluations.map((record) => [record.step, record.accuracy] as const) },
      ],
    }),
    lineChartSvg({ title: "Format rate", series: [trainSeries(train, "formatRate", "format rate")] }),
    lineChartSvg({
      title: "Response length (tokens)",
      series: [
        trainSeries(train, "meanLengthCorrect", "correct"),
        trainSeries(train, "meanLengthIncorrect", "incorrect"),
      ],
    }),
    lineChartSvg({ title: "Loss", series: [trainSeries(train, "loss")] }),
    lineChartSvg({ title: "KL to reference", series: [trainSeries(train, "kl", "KL (k3)")] }),
    lineChartSvg({ title: "Entropy", series: [trainSeries(train, "entropy")] }),
    lineChartSvg({ title: "Clip fraction", series: [trainSeries(train, "clipFraction", "clip fraction")] }),
    lineChartSvg({
      title: "APO shaping",
      series: [
        trainSeries(train, "dadsWeight", "mean DADS weight"),
        trainSeries(train, "stcrScale", "mean STCR scale"),
      ],
    }),
    lineChartSvg({
      title: "STCR: incorrect samples penalised",
      series: [
        mechanismSeries(train, "stcrPenalisedFraction", "fraction of incorrect"),
        mechanismSeries(train, "stcrMeanScale", "their mean scale"),
      ],
    }),
    lineChartSvg({
      title: "DADS weights and difficulty",
      series: [
        mechanismSeries(train, "dadsWeightMin", "min weight"),
        mechanismSeries(train, "dadsWeightMean", "mean weight"),
        mechanismSeries(train, "dadsWeightMax", "max weight"),
        mechanismSeries(train, "difficultyMean", "mean difficulty"),
      ],
    }),
    lineChartSvg({
      title: "KL term's share of the loss",
      series: [mechanismSeries(train, "klShareOfLoss", "|klLoss| / (|policyLoss| + |klLoss|)")],
    }),
    lineChartSvg({
      title: "Zero-spread groups",
      series: [trainSeries(train, "zeroSpreadGroupFraction", "fraction of groups")],
    }),
    lineChartSvg({ title: "Gradient norm", series: [trainSeries(train, "gradNorm", "before clipping")] }),
    lineChartSvg({ title: "Learning rate", series: [trainSeries(train, "lr")] }),
    lineChartSvg({
      title: "Throughput (tokens/s)",
      series: [trainSeries(train, "tokensPerSecond", "tokens/s")],
    }),
    lineChartSvg({ title: "Step time (s)", series: [trainSeries(train, "stepSeconds", "step")] }),
    lineChartSvg({
      title: "tfjs memory (MB)",
      series: [
        {
          name: "allocated",
          points: train.map((record) => [record.step, record.memoryBytes / 2 ** 20] as const),
        },
      ],
    }),
  ];
};

const summaryTable = (summary: Readonly<Record<string, unknown>>): string =>
  `<table>${Object.entries(summary)
    .map(
      ([key, value]) =>
        `<tr><th>${escapeXml(key)}</th><td>${escapeXml(typeof value === "string" ? value : JSON.stringify(value))}</td></tr>`,
    )
    .join("")}</table>`;

/**
 * A self-contained HTML report: a summary table and every curve as inline SVG (no scripts, no
 * network).
 *
 * @since 0.1.0
 * @category report
 */
export const renderReport = (
  title: string,
  records: ReadonlyArray<MetricsRecord>,
  summary: Readonly<Record<string, unknown>>,
): string =>
  [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeXml(title)}</title>`,
    "<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin-bottom:16px}",
    "th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;font-size:13px}.charts{display:flex;flex-wrap:wrap;gap:12px}</style>",
    "</head><body>",
    `<h1>${escapeXml(title)}</h1>`,
    summaryTable(summary),
    `<div class="charts">${charts(records).join("\n")}</div>`,
    "</body></html>",
    "",
  ].join("\n");

/**
 * Write `report.html` into `runDirectory` from its `metrics.jsonl`.
 *
 * @since 0.1.0
 * @category report
 */
export const writeReport = async (
  runDirectory: string,
  summary: Readonly<Record<string, unknown>>,
  title = "apo-rl training run",
): Promise<string> => {
  const records = await readMetrics(join(runDirectory, "metrics.jsonl"));
  const path = join(runDirectory, "report.html");
  await writeFile(path, renderReport(title, records, summary));
  return path;
};
