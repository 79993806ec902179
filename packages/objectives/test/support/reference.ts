/**
 * An independent float64 re-derivation of the objectives, straight from
 * ../shared/specs/objectives.md, in plain JavaScript (no tfjs, nothing imported from src). Tests
 * compare the tfjs objectives with it and differentiate it by central finite differences.
 */

export type Matrix = ReadonlyArray<ReadonlyArray<number>>;

export interface ReferenceInput {
  readonly logp: Matrix;
  readonly logpOld: Matrix;
  readonly logpRef?: Matrix;
  readonly mask: Matrix;
  readonly rewards: ReadonlyArray<number>;
  readonly correct: ReadonlyArray<boolean>;
  readonly lengths?: ReadonlyArray<number>;
  readonly groupSize: number;
}

export interface ReferenceConfig {
  readonly scale: "group" | "batch" | "none";
  readonly eps: number;
  readonly clipLow: number;
  readonly clipHigh: number;
  readonly dualClip?: number;
  readonly aggregation:
    | "token-mean"
    | "seq-mean-token-mean"
    | "seq-mean-token-sum"
    | "seq-mean-token-sum-norm";
  readonly maxLength?: number;
  readonly estimator: "k1" | "k2" | "k3" | "low-var-kl";
  readonly placement: "loss" | "reward";
  readonly beta: number;
  readonly dads?: "reference" | "exp-decay";
  readonly stcrBase?: number;
  readonly overlong?: { readonly maxLength: number; readonly buffer: number };
}

export const grpoReference: ReferenceConfig = {
  scale: "group",
  eps: 1e-9,
  clipLow: 0.2,
  clipHigh: 0.2,
  aggregation: "token-mean",
  estimator: "k3",
  placement: "loss",
  beta: 1e-3,
};

const sum = (values: ReadonlyArray<number>) => values.reduce((total, value) => total + value, 0);
const average = (values: ReadonlyArray<number>) => sum(values) / values.length;
const unbiasedStd = (values: ReadonlyArray<number>) => {
  if (values.length < 2) return 0;
  const centre = average(values);
  return Math.sqrt(sum(values.map((value) => (value - centre) ** 2)) / (values.length - 1));
};

/** Per-sample advantage, KL weight, for the config (float64). */
export const referenceSamples = (input: ReferenceInput, config: ReferenceConfig) => {
  const S = input.rewards.length;
  const G = input.groupSize;
  const lengths = input.lengths ?? input.mask.map((row) => sum(row));
  const rewards = input.rewards.map((reward, i) => {
    if (config.overlong === undefined) return reward;
    const { maxLength, buffer } = config.overlong;
    const L = lengths[i]!;
    const penalty = L <= maxLength - buffer ? 0 : L <= maxLength ? (maxLength - buffer - L) / buffer : -1;
    return reward + penalty;
  });
  const batchStd = unbiasedStd(rewards);
  const advantages: Array<number> = [];
  const weights: Array<number> = [];
  const scales: Array<number> = [];
  for (let start = 0; start < S; start += G) {
    const group = rewards.slice(start, start + G);
    const flags = input.correct.slice(start, start + G);
    const sizes = lengths.slice(start, start + G);
    const centre = average(group);
    const divisor =
      config.scale === "group"
        ? unbiasedStd(group) + config.eps
        : config.scale === "batch"
          ? batchStd + config.eps
          : 1;
    const solved = flags.filter(Boolean).length;
    const d = 1 - solved / G;
    const correctSizes = sizes.filter((_, j) => flags[j]);
    const mu = correctSizes.length > 0 ? average(correctSizes) : Number.NaN;
    group.forEach((reward, j) => {
      let advantage = (reward - centre) / divisor;
      let scale = 1;
      if (config.stcrBase !== undefined && correctSizes.length > 0 && !flags[j] && sizes[j]! > mu)
        scale = 1 + (1 - config.stcrBase ** -(sizes[j]! - mu));
      advantage *= scale;
      let weight = 1;
      if (config.dads !== undefined && advantage > 0 && d > 0 && d < 1)
        weight = config.dads === "reference" ? 1 - Math.exp(-Math.E * (1 - d)) : Math.exp(-Math.E * d);
      advantages.push(advantage);
      weights.push(weight);
      scales.push(scale);
    });
  }
  return { rewards, advantages, weights, scales };
};

const kl = (logp: number, logpRef: number, estimator: ReferenceConfig["estimator"]): number => {
  const d = logpRef - logp;
  if (estimator === "k1") return -d;
  if (estimator === "k2") return (d * d) / 2;
  const k3 = Math.exp(d) - d - 1;
  return estimator === "k3" ? k3 : Math.min(10, Math.max(-10, k3));
};

/** The full loss of the GRPO family (grpo, drGrpo, dapo, grpoD at a given β, apo), float64. */
export const referenceLoss = (input: ReferenceInput, config: ReferenceConfig) => {
  const { advantages, weights, scales } = referenceSamples(input, config);
  const S = input.rewards.length;
  const T = input.mask[0]?.length ?? 0;
  const tokenLoss: Array<Array<number>> = [];
  for (let i = 0; i < S; i++) {
    const row: Array<number> = [];
    let toGo = 0;
    const perToken = new Array<number>(T).fill(advantages[i]!);
    if (config.placement === "reward" && config.beta > 0 && input.logpRef !== undefined)
      for (let t = T - 1; t >= 0; t--) {
        if (input.mask[i]![t]! > 0) toGo += input.logpOld[i]![t]! - input.logpRef[i]![t]!;
        // The reference scales the whole return (sequence advantage and KL penalty) by STCR.
        perToken[t] = scales[i]! * (advantages[i]! / scales[i]! - config.beta * weights[i]! * toGo);
      }
    for (let t = 0; t < T; t++) {
      if (input.mask[i]![t]! === 0) {
        row.push(0);
        continue;
      }
      const A = perToken[t]!;
      const ratio = Math.exp(input.logp[i]![t]! - input.logpOld[i]![t]!);
      const clipped = Math.min(Math.max(ratio, 1 - config.clipLow), 1 + config.clipHigh);
      let pg = -Math.min(ratio * A, clipped * A);
      if (config.dualClip !== undefined && A < 0) pg = Math.min(pg, -config.dualClip * A);
      row.push(pg);
    }
    tokenLoss.push(row);
  }
  const tokensOf = input.mask.map((row) => sum(row));
  const sums = tokenLoss.map((row) => sum(row));
  const present = tokensOf.map((count, i) => ({ count, i })).filter(({ count }) => count > 0);
  let policyLoss: number;
  switch (config.aggregation) {
    case "token-mean":
      policyLoss = sum(tokensOf) === 0 ? 0 : sum(sums) / sum(tokensOf);
      break;
    case "seq-mean-token-mean":
      policyLoss = present.length === 0 ? 0 : average(present.map(({ count, i }) => sums[i]! / count));
      break;
    case "seq-mean-token-sum":
      policyLoss = present.length === 0 ? 0 : average(present.map(({ i }) => sums[i]!));
      break;
    case "seq-mean-token-sum-norm":
      policyLoss = sum(sums) / (S * (config.maxLength ?? T));
      break;
  }
  let klLoss = 0;
  if (input.logpRef !== undefined && config.placement === "loss") {
    const perSequence = input.mask.map((row, i) => {
      const values = row.flatMap((m, t) =>
        m > 0 ? [kl(input.logp[i]![t]!, input.logpRef![i]![t]!, config.estimator)] : [],
      );
      return values.length === 0 ? 0 : average(values);
    });
    klLoss = config.beta * average(perSequence.map((value, i) => weights[i]! * value));
  }
  return { loss: policyLoss + klLoss, policyLoss, klLoss, advantages, weights };
};

/** Central finite differences of `f` with respect to every entry of `logp`. */
export const finiteDifferenceGradient = (
  logp: Matrix,
  f: (logp: Matrix) => number,
  step = 1e-6,
): Array<Array<number>> =>
  logp.map((row, i) =>
    row.map((_, t) => {
      const shifted = (delta: number) =>
        logp.map((r, k) => (k === i ? r.map((v, u) => (u === t ? v + delta : v)) : r));
      return (f(shifted(step)) - f(shifted(-step))) / (2 * step);
    }),
  );
