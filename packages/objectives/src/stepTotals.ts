import type { StepTotals } from "@apo-rl/core";
import { checkFinite } from "./internal/groups.js";
import { invalid } from "./internal/invalid.js";

/**
 * The whole step's counts from its per-sample response lengths: `tokens = Σ lengths`, `sequences =
 * S`, `responseSequences` (lengths > 0) and `paddedLength = max lengths`. Every micro-batch's loss
 * divides by these, so a trainer computes them once per step, before any split.
 *
 * @example
 * ```ts
 * stepTotals([3, 0, 5]); // { tokens: 8, sequences: 3, responseSequences: 2, paddedLength: 5 }
 * ```
 * @since 0.2.0
 * @category building blocks
 */
export const stepTotals = (lengths: ReadonlyArray<number>): StepTotals => {
  checkFinite("stepTotals", "lengths", lengths);
  const negative = lengths.findIndex((length) => length < 0);
  if (negative !== -1)
    throw invalid("stepTotals", `lengths[${negative}]`, `Expected a length ≥ 0, got ${lengths[negative]}`);
  return {
    tokens: lengths.reduce((sum, length) => sum + length, 0),
    sequences: lengths.length,
    responseSequences: lengths.filter((length) => length > 0).length,
    paddedLength: lengths.reduce((longest, length) => Math.max(longest, length), 0),
  };
};

/**
 * The rows `rows` (indices into the step's samples) of every per-sample array, in that order: what
 * a micro-batch holding those rows passes as `samples`.
 *
 * @since 0.2.0
 * @category building blocks
 */
export const selectSamples = <K extends string>(
  perSample: Readonly<Record<K, ReadonlyArray<number>>>,
  rows: ReadonlyArray<number>,
): Record<K, ReadonlyArray<number>> =>
  Object.fromEntries(
    Object.entries<ReadonlyArray<number>>(perSample).map(([key, values]) => [
      key,
      rows.map((row) => {
        const value = values[row];
        if (value === undefined)
          throw invalid("selectSamples", `${key}[${row}]`, `Expected a row < ${values.length}`);
        return value;
      }),
    ]),
  ) as unknown as Record<K, ReadonlyArray<number>>;
