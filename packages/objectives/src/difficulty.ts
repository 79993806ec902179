import { checkLength, groupCount, groupSlice } from "./internal/groups.js";

/**
 * Difficulty of each prompt: `d[i] = 1 − (Σ_j c[i,j]) / G`, the fraction of its group that got it
 * wrong. Returns one value per group.
 *
 * @since 0.1.0
 * @category APO
 */
export const difficulty = (correct: ReadonlyArray<boolean>, groupSize: number): Array<number> => {
  const groups = groupCount("difficulty", correct.length, groupSize);
  checkLength("difficulty", "correct", correct, groups * groupSize);
  return Array.from({ length: groups }, (_, group) => {
    const solved = groupSlice(correct, group, groupSize).filter(Boolean).length;
    return 1 - solved / groupSize;
  });
};
