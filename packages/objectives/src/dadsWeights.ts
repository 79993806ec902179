import { difficulty } from "./difficulty.js";
import { checkFinite, checkLength, groupCount } from "./internal/groups.js";

/**
 * The DADS weighting function: `reference` is `f(d) = 1 − exp(−e·(1 − d))` (the reference code);
 * `exp-decay` is `f(d) = exp(−e·d)` (the alternative the reference carries commented out).
 *
 * @since 0.1.0
 * @category APO
 */
export type DadsForm = "reference" | "exp-decay";

/**
 * The DADS weight of a prompt of difficulty `d`: `f(d)` for `0 < d < 1` and `1` at `d = 0` or
 * `d = 1`. Always in `(0, 1]`.
 *
 * @since 0.1.0
 * @category APO
 */
export const dadsWeight = (d: number, form: DadsForm = "reference"): number => {
  if (!(d > 0 && d < 1)) return 1;
  return form === "reference" ? 1 - Math.exp(-Math.E * (1 - d)) : Math.exp(-Math.E * d);
};

/**
 * DADS (Difficulty-Adaptive Divergence Shaping) per-sample KL weights: a response with a positive
 * advantage gets `w = f(d[i])` of its prompt's difficulty; every other response keeps `w = 1`.
 *
 * @since 0.1.0
 * @category APO
 */
export const dadsWeights = (
  correct: ReadonlyArray<boolean>,
  advantages: ReadonlyArray<number>,
  groupSize: number,
  options: { readonly form?: DadsForm } = {},
): Array<number> => {
  groupCount("dadsWeights", correct.length, groupSize);
  checkLength("dadsWeights", "advantages", advantages, correct.length);
  checkFinite("dadsWeights", "advantages", advantages);
  const difficulties = difficulty(correct, groupSize);
  const form = options.form ?? "reference";
  return advantages.map((advantage, sample) =>
    advantage > 0 ? dadsWeight(difficulties[Math.floor(sample / groupSize)]!, form) : 1,
  );
};
