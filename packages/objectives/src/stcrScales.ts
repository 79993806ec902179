import { checkFinite, checkLength, groupCount, groupSlice, mean } from "./internal/groups.js";
import { invalid } from "./internal/invalid.js";

/** The largest double below 1, so that `1 + excess` stays below 2 when `base^(−x)` underflows. */
const belowOne = 1 - Number.EPSILON;

/**
 * The STCR scale of an incorrect response `excess = L − μ` tokens longer than the mean correct
 * length: `s = 1 + (1 − base^(−excess))` for `excess > 0`, else `1`. In `[1, 2)`; it saturates at the
 * largest double below 2 when `base^(−excess)` underflows.
 *
 * @since 0.1.0
 * @category APO
 */
export const stcrScale = (excess: number, base = 1.00001): number =>
  excess > 0 ? 1 + Math.min(-Math.expm1(-excess * Math.log(base)), belowOne) : 1;

/**
 * For each sample: the mean length of its group's correct responses, or `undefined` when the group
 * has none.
 */
const correctMeanLengths = (
  subject: string,
  correct: ReadonlyArray<boolean>,
  lengths: ReadonlyArray<number>,
  groupSize: number,
): Array<number | undefined> => {
  const groups = groupCount(subject, correct.length, groupSize);
  checkLength(subject, "lengths", lengths, correct.length);
  checkFinite(subject, "lengths", lengths);
  return Array.from({ length: groups }, (_, group) => {
    const flags = groupSlice(correct, group, groupSize);
    const correctLengths = groupSlice(lengths, group, groupSize).filter((_, member) => flags[member]);
    const reference = correctLengths.length > 0 ? mean(correctLengths) : undefined;
    return flags.map(() => reference);
  }).flat();
};

/**
 * STCR (Suboptimal Trajectory Complexity Regularisation) per-sample advantage scales. In a group
 * with at least one correct response, let `μ` be the mean length of its correct responses; every
 * incorrect response longer than `μ` gets `s = 1 + (1 − base^(−(L − μ)))`, every other response
 * `s = 1`. Groups without a correct response get `s = 1`. Default `base` `1.00001` (the reference).
 *
 * @since 0.1.0
 * @category APO
 */
export const stcrScales = (
  correct: ReadonlyArray<boolean>,
  lengths: ReadonlyArray<number>,
  groupSize: number,
  options: { readonly base?: number } = {},
): Array<number> => {
  const base = options.base ?? 1.00001;
  if (!(base > 1 && Number.isFinite(base)))
    throw invalid("stcrScales", "base", `Expected base > 1, got ${base}`);
  return correctMeanLengths("stcrScales", correct, lengths, groupSize).map((reference, sample) =>
    reference === undefined || correct[sample] ? 1 : stcrScale(lengths[sample]! - reference, base),
  );
};

/**
 * Which samples STCR penalises: incorrect responses longer than the mean correct length of a group
 * that has a correct response.
 *
 * @since 0.1.0
 * @category APO
 */
export const stcrPenalised = (
  correct: ReadonlyArray<boolean>,
  lengths: ReadonlyArray<number>,
  groupSize: number,
): Array<boolean> =>
  correctMeanLengths("stcrPenalised", correct, lengths, groupSize).map(
    (reference, sample) => reference !== undefined && !correct[sample] && lengths[sample]! > reference,
  );
