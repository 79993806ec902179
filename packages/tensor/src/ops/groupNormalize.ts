import * as tf from "@tensorflow/tfjs-core";
import { invalidInput, requirePositiveInteger } from "../internal/ops/invalidInput.js";

/**
 * What the centred reward is divided by: the group's std (GRPO), the whole batch's std, or nothing
 * (Dr.GRPO).
 *
 * @since 0.1.0
 * @category ops
 */
export type GroupScale = "group" | "batch" | "none";

/**
 * Options of {@link groupNormalize}.
 *
 * @since 0.1.0
 * @category ops
 */
export interface GroupNormalizeOptions {
  /** Default `"group"`. */
  readonly scale?: GroupScale;
  /** Added to the std before dividing. Default `1e-9` (the APO reference; TRL uses `1e-4`). */
  readonly eps?: number;
}

const OP = "groupNormalize";
const SCALES: ReadonlyArray<GroupScale> = ["group", "batch", "none"];

const mean = (values: ReadonlyArray<number>): number =>
  values.reduce((sum, value) => sum + value, 0) / values.length;

/** Unbiased sample standard deviation (divides by `n - 1`); 0 when every value is equal. */
const unbiasedStd = (values: ReadonlyArray<number>): number => {
  if (values.every((value) => value === values[0])) return 0;
  const centre = mean(values);
  const squares = values.reduce((sum, value) => sum + (value - centre) ** 2, 0);
  return Math.sqrt(squares / (values.length - 1));
};

const validate = (values: ReadonlyArray<number>, groupSize: number, scale: GroupScale, eps: number): void => {
  requirePositiveInteger(OP, "groupSize", groupSize);
  if (values.length % groupSize !== 0) {
    throw invalidInput(OP, "groupSize", `${values.length} values do not split into groups of ${groupSize}`);
  }
  const bad = values.findIndex((value) => !Number.isFinite(value));
  if (bad >= 0) throw invalidInput(OP, `values[${bad}]`, `expected a finite number, got ${values[bad]}`);
  if (!SCALES.includes(scale)) {
    throw invalidInput(OP, "scale", `expected one of ${SCALES.join(", ")}, got ${String(scale)}`);
  }
  if (!(Number.isFinite(eps) && eps >= 0))
    throw invalidInput(OP, "eps", `expected a finite eps ≥ 0, got ${eps}`);
  if (scale === "group" && groupSize < 2) {
    throw invalidInput(OP, "groupSize", "the unbiased std of a group needs at least 2 values (scale: group)");
  }
  if (scale === "batch" && values.length < 2) {
    throw invalidInput(OP, "values", "the unbiased std of the batch needs at least 2 values (scale: batch)");
  }
};

const normalize = (
  values: ReadonlyArray<number>,
  groupSize: number,
  options: GroupNormalizeOptions,
): Array<number> => {
  const scale = options.scale ?? "group";
  const eps = options.eps ?? 1e-9;
  validate(values, groupSize, scale, eps);
  const batchStd = scale === "batch" ? unbiasedStd(values) : 0;
  const result: Array<number> = [];
  for (let start = 0; start < values.length; start += groupSize) {
    const group = values.slice(start, start + groupSize);
    const centre = mean(group);
    const allEqual = group.every((value) => value === group[0]);
    const divisor = scale === "group" ? unbiasedStd(group) + eps : scale === "batch" ? batchStd + eps : 1;
    for (const value of group) result.push(allEqual ? 0 : (value - centre) / divisor);
  }
  return result;
};

/**
 * Group-normalised advantages (GRPO): the values are `S = B·G` rewards laid out group after group
 * (`groupSize = G` consecutive values per prompt), and each becomes
 * - `scale: "group"`: `(r - mean_group) / (std_group + eps)`,
 * - `scale: "batch"`: `(r - mean_group) / (std_batch + eps)`,
 * - `scale: "none"`: `r - mean_group` (Dr.GRPO),
 *
 * with `std` the unbiased sample standard deviation (divide by `n - 1`). A group whose rewards are
 * all equal gets exactly 0 (no `0 / eps` noise from rounding).
 *
 * Accepts a number array (returns a number array) or a `[S]` tensor (returns a new `[S]` float32
 * tensor). Either way the arithmetic is float64 on the host: rewards are a few scalars per
 * sample, and float32 rounding of the group mean divided by a tiny `eps` would otherwise turn
 * "all equal" into large spurious advantages. Not differentiable (rewards carry no gradient).
 *
 * @example
 * ```ts
 * groupNormalize([1, 0, 0, 1], 2); // ≈ [0.7071, -0.7071, -0.7071, 0.7071]
 * ```
 * @since 0.1.0
 * @category ops
 */
export function groupNormalize(
  values: ReadonlyArray<number>,
  groupSize: number,
  options?: GroupNormalizeOptions,
): Array<number>;
export function groupNormalize(
  values: tf.Tensor1D,
  groupSize: number,
  options?: GroupNormalizeOptions,
): tf.Tensor1D;
export function groupNormalize(
  values: ReadonlyArray<number> | tf.Tensor1D,
  groupSize: number,
  options: GroupNormalizeOptions = {},
): Array<number> | tf.Tensor1D {
  if (!(values instanceof tf.Tensor)) return normalize(values, groupSize, options);
  if (values.rank !== 1)
    throw invalidInput(OP, "values", `expected a [S] tensor, got shape [${values.shape}]`);
  return tf.tensor1d(normalize(Array.from(values.dataSync()), groupSize, options), "float32");
}
