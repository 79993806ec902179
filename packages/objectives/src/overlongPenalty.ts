import { checkFinite } from "./internal/groups.js";
import { invalid } from "./internal/invalid.js";

/**
 * @since 0.1.0
 * @category DAPO
 */
export interface OverlongPenaltyOptions {
  /** The generation budget `Lmax` in tokens. */
  readonly maxLength: number;
  /** The soft-penalty buffer `Lb` in tokens, `0 < Lb ≤ Lmax`. */
  readonly buffer: number;
}

/**
 * DAPO's overlong reward shaping, added to the reward of each response of length `L`:
 * `0` if `L ≤ Lmax − Lb`; `((Lmax − Lb) − L) / Lb` if `Lmax − Lb < L ≤ Lmax`; `−1` beyond.
 *
 * @since 0.1.0
 * @category DAPO
 */
export const overlongPenalty = (
  lengths: ReadonlyArray<number>,
  options: OverlongPenaltyOptions,
): Array<number> => {
  const { maxLength, buffer } = options;
  if (!(Number.isFinite(maxLength) && maxLength > 0))
    throw invalid("overlongPenalty", "maxLength", `Expected a positive length, got ${maxLength}`);
  if (!(Number.isFinite(buffer) && buffer > 0 && buffer <= maxLength))
    throw invalid(
      "overlongPenalty",
      "buffer",
      `Expected 0 < buffer ≤ maxLength (${maxLength}), got ${buffer}`,
    );
  checkFinite("overlongPenalty", "lengths", lengths);
  const soft = maxLength - buffer;
  return lengths.map((length) => {
    if (length <= soft) return 0;
    if (length <= maxLength) return (soft - length) / buffer;
    return -1;
  });
};
