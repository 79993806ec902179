import type { Random } from "./random.js";

/** Settings of one sampling step (already validated). */
export interface SamplingSettings {
  /** `0` is greedy (argmax). */
  readonly temperature: number;
  /** Keep the `topK` most likely tokens; `0` or absent keeps all. */
  readonly topK?: number;
  /** Keep the smallest most-likely set whose probability reaches `topP`; `1` or absent keeps all. */
  readonly topP?: number;
  /** Token ids never sampled (e.g. `<|image_pad|>`); they still count in the reported log-probability. */
  readonly suppress?: ReadonlySet<number>;
}

/** The chosen token and its log-probability under the full tempered distribution. */
export interface SampledToken {
  readonly token: number;
  readonly logprob: number;
}

/**
 * The temperature used for log-probabilities: `temperature`, or 1 for greedy decoding
 * (temperature 0), whose distribution is not defined otherwise.
 */
export const logprobTemperature = (temperature: number): number => (temperature > 0 ? temperature : 1);

const argmax = (row: ArrayLike<number>, suppress: ReadonlySet<number>): number => {
  let best = -1;
  for (let index = 0; index < row.length; index++) {
    if (!suppress.has(index) && (best < 0 || row[index]! > row[best]!)) best = index;
  }
  return best;
};

/** `log softmax(row / temperature)[token]`, in float64. */
export const tokenLogprob = (row: ArrayLike<number>, token: number, temperature: number): number => {
  let max = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < row.length; index++) max = Math.max(max, row[index]! / temperature);
  let sum = 0;
  for (let index = 0; index < row.length; index++) sum += Math.exp(row[index]! / temperature - max);
  return row[token]! / temperature - max - Math.log(sum);
};

/** Largest `row[id] / temperature` over the ids that may be drawn. */
const maxScaled = (row: ArrayLike<number>, temperature: number, suppress: ReadonlySet<number>): number => {
  let max = Number.NEGATIVE_INFINITY;
  for (let id = 0; id < row.length; id++) if (!suppress.has(id)) max = Math.max(max, row[id]! / temperature);
  return max;
};

/** `Σ exp(row[id] / temperature − max)` over the ids that may be drawn. */
const allowedMass = (
  row: ArrayLike<number>,
  temperature: number,
  max: number,
  suppress: ReadonlySet<number>,
): number => {
  let total = 0;
  for (let id = 0; id < row.length; id++)
    if (!suppress.has(id)) total += Math.exp(row[id]! / temperature - max);
  return total;
};

/** Inverse-CDF draw over every allowed id in ascending order, without allocating. */
const drawUntruncated = (
  row: ArrayLike<number>,
  temperature: number,
  suppress: ReadonlySet<number>,
  random: Random,
): number => {
  const max = maxScaled(row, temperature, suppress);
  const total = allowedMass(row, temperature, max, suppress);
  let threshold = random.next() * total;
  let last = -1;
  for (let id = 0; id < row.length; id++) {
    if (suppress.has(id)) continue;
    last = id;
    threshold -= Math.exp(row[id]! / temperature - max);
    if (threshold < 0) return id;
  }
  return last;
};

/**
 * The allowed ids in descending logit order (ties by ascending id), cut to the top-k, holding the
 * top-p nucleus. Only ids within a growing logit gap of the maximum are sorted: a gap is wide enough
 * once it holds `topK` ids, or (no top-k) a probability mass of at least `topP`.
 */
const rankedCandidates = (
  row: ArrayLike<number>,
  temperature: number,
  settings: { readonly topK: number; readonly topP: number },
  suppress: ReadonlySet<number>,
): number[] => {
  const max = maxScaled(row, temperature, suppress);
  const total = allowedMass(row, temperature, max, suppress);
  for (const gap of [8, 16, 32, 64, Number.POSITIVE_INFINITY]) {
    const ids: number[] = [];
    let mass = 0;
    for (let id = 0; id < row.length; id++) {
      const scaled = row[id]! / temperature - max;
      if (!suppress.has(id) && scaled >= -gap) {
        ids.push(id);
        mass += Math.exp(scaled);
      }
    }
    const enough = settings.topK > 0 ? ids.length >= settings.topK : mass >= settings.topP * total;
    if (enough || gap === Number.POSITIVE_INFINITY) {
      ids.sort((a, b) => row[b]! - row[a]! || a - b);
      return settings.topK > 0 && settings.topK < ids.length ? ids.slice(0, settings.topK) : ids;
    }
  }
  return [];
};

/**
 * Sample one token from a logits row: divide by the temperature, keep the top-k, then the top-p
 * nucleus (HF order), renormalise and draw with `random`; suppressed ids are never drawn.
 * Temperature 0 takes the argmax. The returned log-probability is that of the full (untruncated,
 * unsuppressed) tempered distribution, which the training forward recomputes exactly.
 */
export const sampleToken = (
  row: ArrayLike<number>,
  settings: SamplingSettings,
  random: Random,
): SampledToken => {
  const temperature = logprobTemperature(settings.temperature);
  const suppress = settings.suppress ?? new Set<number>();
  if (settings.temperature === 0) {
    const token = argmax(row, suppress);
    return { token, logprob: tokenLogprob(row, token, temperature) };
  }
  const topK = settings.topK ?? 0;
  const topP = settings.topP ?? 1;
  if (topK === 0 && topP >= 1) {
    const token = drawUntruncated(row, temperature, suppress, random);
    return { token, logprob: tokenLogprob(row, token, temperature) };
  }
  const ids = rankedCandidates(row, temperature, { topK, topP }, suppress);
  let max = Number.NEGATIVE_INFINITY;
  for (const id of ids) max = Math.max(max, row[id]! / temperature);
  const weights = ids.map((id) => Math.exp(row[id]! / temperature - max));
  let kept = weights.length;
  if (topP < 1) {
    // The nucleus is measured against the mass of the top-k set, or of the whole vocabulary (whose
    // maximum is `max`, as the most likely token is always a candidate).
    const total =
      topK > 0
        ? weights.reduce((sum, weight) => sum + weight, 0)
        : allowedMass(row, temperature, max, suppress);
    let cumulative = 0;
    kept = 0;
    while (kept < weights.length && (kept === 0 || cumulative < topP * total)) {
      cumulative += weights[kept]!;
      kept++;
    }
  }
  let mass = 0;
  for (let index = 0; index < kept; index++) mass += weights[index]!;
  let threshold = random.next() * mass;
  let chosen = ids[kept - 1]!;
  for (let index = 0; index < kept; index++) {
    threshold -= weights[index]!;
    if (threshold < 0) {
      chosen = ids[index]!;
      break;
    }
  }
  return { token: chosen, logprob: tokenLogprob(row, chosen, temperature) };
};
