import { type BackendName, initBackend } from "@apo-rl/tensor";
import { lineChartSvg } from "@apo-rl/trainer";
import type { BenchmarkOutcome } from "../output.js";
import { type LoadPolicyOptions, loadPolicy, type PolicySource } from "../policySource.js";
import { createReferenceCheck, createRewardVerifier, type RewardSettings } from "../rewardVerifier.js";
import {
  type EvaluationResults,
  type EvaluationSettings,
  type EvaluationSummary,
  evaluatePolicy,
} from "./evaluatePolicy.js";
import { type EvaluationDataset, loadEvaluationData } from "./evaluationData.js";

/**
 * Everything `apo-bench eval` needs.
 *
 * @since 0.1.0
 * @category eval
 */
export interface EvalOptions extends EvaluationSettings {
  readonly policy: PolicySource;
  readonly policyOptions?: LoadPolicyOptions;
  readonly dataset: EvaluationDataset;
  readonly reward: RewardSettings;
  /** A tfjs backend, or `auto` (@apo-rl/tensor's order: the fastest usable one). */
  readonly backend: BackendName | "auto";
}

const cell = (value: number | null, digits = 3) => (value === null ? "—" : value.toFixed(digits));

const row = (name: string, summary: EvaluationSummary, ks: ReadonlyArray<string>) =>
  `| ${name} | ${summary.prompts} | ${summary.samples} | ${cell(summary.accuracy)} | ${cell(summary.formatRate)} | ${cell(summary.meanLength, 1)} | ${cell(summary.meanLengthCorrect, 1)} | ${cell(summary.meanLengthIncorrect, 1)} | ${ks.map((k) => cell(summary.passAtK[k] ?? null)).join(" | ")} |`;

/**
 * The markdown table of an evaluation: one row for all prompts, then one per category.
 *
 * @since 0.1.0
 * @category eval
 */
export const evaluationTable = (results: EvaluationResults): string => {
  const ks = Object.keys(results.overall.passAtK);
  const header = `| set | prompts | samples | accuracy | format rate | mean length | length (correct) | length (incorrect) | ${ks.map((k) => `pass@${k}`).join(" | ")} |`;
  const rule = `|${" --- |".repeat(8 + ks.length)}`;
  const rows = [row("all", results.overall, ks)];
  for (const [category, summary] of Object.entries(results.categories)) rows.push(row(category, summary, ks));
  return [header, rule, ...rows].join("\n");
};

const passAtKChart = (results: EvaluationResults): string =>
  lineChartSvg({
    title: "pass@k",
    xLabel: "k",
    series: [
      ["all", results.overall] as const,
      ...Object.entries(results.categories).filter(() => Object.keys(results.categories).length > 1),
    ].map(([name, summary]) => ({
      name,
      points: Object.entries(summary.passAtK).map(([k, value]) => [Number(k), value] as const),
    })),
  });

/**
 * Load the policy and the prompts, evaluate, and return the results (with the backend and the
 * policy's name), a markdown table and a pass@k chart.
 *
 * @since 0.1.0
 * @category eval
 */
export const runEval = async (options: EvalOptions): Promise<BenchmarkOutcome> => {
  const backend = await initBackend(options.backend === "auto" ? undefined : options.backend);
  const data = await loadEvaluationData(options.dataset, {
    validateAnswer: createReferenceCheck(options.reward),
  });
  const items = data.items;
  const loaded = await loadPolicy(options.policy, options.policyOptions);
  const policy = loaded.policy;
  const verifier = await createRewardVerifier(options.reward);
  try {
    const results = await evaluatePolicy(policy, verifier, items, options);
    return {
      results: { backend: backend.chosen, policy: policy.name, skippedRows: data.skippedRows, ...results },
      table: evaluationTable(results),
      charts: { "pass-at-k": passAtKChart(results) },
    };
  } finally {
    await verifier.close();
    loaded.dispose();
  }
};
