import { availableParallelism } from "node:os";
import type { VerifierV1 } from "@apo-rl/core";
import { createVerifierPool, mathAnswer } from "@apo-rl/rewards";
import type { BenchmarkOutcome } from "../output.js";

/**
 * Settings of {@link runRewardsPerf}.
 *
 * @since 0.1.0
 * @category perf
 */
export interface RewardsPerfOptions {
  /** 500 pairs per workload and one pool thread: a CI smoke run. */
  readonly quick?: boolean;
  /** (gold, predicted) pairs per workload. Default 10 000 (500 when `quick`). */
  readonly pairs?: number;
  /** Pool threads. Default: available cores − 1, at least 1 (1 when `quick`). */
  readonly threads?: number;
  /** Seed of the pair generator. Default 1. */
  readonly seed?: number;
  /** Called with a line of progress for each measured case. */
  readonly onProgress?: (line: string) => void;
}

/**
 * One measured case.
 *
 * @since 0.1.0
 * @category perf
 */
export interface RewardsPerfRow {
  /** `plain-number` (bare numbers and sentences ending in a number) or `latex` (fractions, roots, π, polynomials). */
  readonly workload: "plain-number" | "latex";
  /** `single-thread` (in this thread, no time limit) or `pool` (worker pool with a time limit). */
  readonly mode: "single-thread" | "pool";
  readonly threads: number;
  readonly pairs: number;
  readonly seconds: number;
  readonly verificationsPerSecond: number;
  readonly verificationsPerSecondPerCore: number;
  /** Latency of one verification in milliseconds (single thread: the call; pool: one `verify` round trip). */
  readonly p50Milliseconds: number;
  readonly p99Milliseconds: number;
  /** Share of pairs judged correct (the generator makes about half of them correct). */
  readonly correctShare: number;
  /** Target verifications per second per core from the issue (5 000 plain, 500 LaTeX). */
  readonly target: number;
}

interface Pair {
  readonly reference: string;
  readonly response: string;
}

/** A small deterministic generator (mulberry32). */
const generator = (seed: number) => {
  let state = seed >>> 0;
  return (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
};

const plainPairs = (count: number, random: () => number): Pair[] =>
  Array.from({ length: count }, (_, index) => {
    const value = Math.floor(random() * 100_000) - 20_000;
    const given = random() < 0.5 ? value : value + 1 + Math.floor(random() * 9);
    const response =
      index % 3 === 0
        ? String(given)
        : index % 3 === 1
          ? `So the total is ${given}.`
          : `<answer>${given}</answer>`;
    return { reference: String(value), response };
  });

const latexPairs = (count: number, random: () => number): Pair[] =>
  Array.from({ length: count }, (_, index) => {
    const a = 1 + Math.floor(random() * 40);
    const b = 2 + Math.floor(random() * 40);
    const right = random() < 0.5;
    switch (index % 4) {
      case 0:
        return {
          reference: `\\frac{${a}}{${b}}`,
          response: `Thus the probability is $\\boxed{\\dfrac{${2 * a}}{${2 * b + (right ? 0 : 1)}}}$.`,
        };
      case 1:
        return {
          reference: `${a}\\sqrt{${b}}`,
          response: `We get \\(\\sqrt{${a * a * b + (right ? 0 : 1)}}\\).`,
        };
      case 2:
        return {
          reference: `\\frac{${a}\\pi}{${b}}`,
          response: `The area is $\\boxed{\\frac{${a}}{${b}}\\pi${right ? "" : " + 1"}}$`,
        };
      default:
        return {
          reference: `(x+${a})^2`,
          response: `Expanding, $\\boxed{x^2 + ${2 * a}x + ${a * a + (right ? 0 : 1)}}$`,
        };
    }
  });

const percentile = (sorted: ReadonlyArray<number>, fraction: number): number =>
  sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number);

const singleThread = (verifier: VerifierV1, pairs: ReadonlyArray<Pair>) => {
  const latencies: number[] = [];
  let correct = 0;
  const start = performance.now();
  for (const pair of pairs) {
    const before = performance.now();
    const result = verifier.verify(pair.response, pair.reference) as { correct: boolean };
    latencies.push(performance.now() - before);
    if (result.correct) correct += 1;
  }
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((left, right) => left - right);
  return { seconds, latencies, correct };
};

const throughPool = async (pairs: ReadonlyArray<Pair>, threads: number, latencySamples: number) => {
  const pool = createVerifierPool(mathAnswer(), { threads, timeLimitMs: 5000 });
  try {
    await pool.verifyBatch(pairs.slice(0, Math.min(200, pairs.length)));
    const start = performance.now();
    const results = await pool.verifyBatch(pairs);
    const seconds = (performance.now() - start) / 1000;
    const latencies: number[] = [];
    for (const pair of pairs.slice(0, latencySamples)) {
      const before = performance.now();
      await pool.verify(pair.response, pair.reference);
      latencies.push(performance.now() - before);
    }
    latencies.sort((left, right) => left - right);
    return { seconds, latencies, correct: results.filter((result) => result.correct).length };
  } finally {
    await pool.close();
  }
};

const row = (
  workload: RewardsPerfRow["workload"],
  mode: RewardsPerfRow["mode"],
  threads: number,
  pairs: number,
  measured: { seconds: number; latencies: ReadonlyArray<number>; correct: number },
): RewardsPerfRow => ({
  workload,
  mode,
  threads,
  pairs,
  seconds: measured.seconds,
  verificationsPerSecond: pairs / measured.seconds,
  verificationsPerSecondPerCore: pairs / measured.seconds / threads,
  p50Milliseconds: percentile(measured.latencies, 0.5),
  p99Milliseconds: percentile(measured.latencies, 0.99),
  correctShare: measured.correct / pairs,
  target: workload === "plain-number" ? 5000 : 500,
});

const table = (rows: ReadonlyArray<RewardsPerfRow>): string =>
  [
    "| workload | mode | threads | pairs | verifications/s | per core | target/core | p50 ms | p99 ms | correct |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (entry) =>
        `| ${entry.workload} | ${entry.mode} | ${entry.threads} | ${entry.pairs} | ${Math.round(entry.verificationsPerSecond)} | ` +
        `${Math.round(entry.verificationsPerSecondPerCore)} | ${entry.target} | ${entry.p50Milliseconds.toFixed(3)} | ` +
        `${entry.p99Milliseconds.toFixed(3)} | ${(entry.correctShare * 100).toFixed(1)} % |`,
    ),
  ].join("\n");

/**
 * Verifier throughput: `mathAnswer` on (gold, predicted) pairs of plain numbers and of LaTeX
 * expressions, in this thread and through the worker pool, with p50/p99 latency.
 *
 * @since 0.1.0
 * @category perf
 */
export const runRewardsPerf = async (options: RewardsPerfOptions = {}): Promise<BenchmarkOutcome> => {
  const quick = options.quick ?? false;
  const count = options.pairs ?? (quick ? 500 : 10_000);
  const threads = Math.max(1, options.threads ?? (quick ? 1 : availableParallelism() - 1));
  const random = generator(options.seed ?? 1);
  const workloads = { "plain-number": plainPairs(count, random), latex: latexPairs(count, random) } as const;
  const verifier = mathAnswer();
  const rows: RewardsPerfRow[] = [];
  for (const [workload, pairs] of Object.entries(workloads) as Array<[RewardsPerfRow["workload"], Pair[]]>) {
    singleThread(verifier, pairs.slice(0, Math.min(500, pairs.length)));
    rows.push(row(workload, "single-thread", 1, pairs.length, singleThread(verifier, pairs)));
    options.onProgress?.(`rewards ${workload} single-thread done`);
    rows.push(
      row(workload, "pool", threads, pairs.length, await throughPool(pairs, threads, quick ? 50 : 500)),
    );
    options.onProgress?.(`rewards ${workload} pool (${threads} threads) done`);
  }
  return { results: { settings: { quick, pairs: count, threads }, rows }, table: table(rows) };
};
