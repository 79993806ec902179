import type { ObjectiveInput } from "@apo-rl/core";
import type { Tensor } from "@tensorflow/tfjs-core";
import { checkFinite, checkLength, groupCount } from "./groups.js";
import { invalid } from "./invalid.js";

/** The validated dimensions and per-sample lengths of one objective input. */
export interface CheckedInput {
  readonly samples: number;
  readonly tokens: number;
  readonly groups: number;
  /** Per-sample response lengths: `input.lengths` or the row sums of the mask. */
  readonly lengths: ReadonlyArray<number>;
}

const checkShape = (subject: string, field: string, tensor: Tensor, samples: number, tokens: number) => {
  const [rows, columns] = tensor.shape;
  if (tensor.rank !== 2 || rows !== samples || columns !== tokens)
    throw invalid(subject, field, `Expected shape [${samples}, ${tokens}], got [${tensor.shape.join(", ")}]`);
};

/** Row sums of the `[S, T]` mask (a synchronous read). */
const maskLengths = (mask: Tensor, samples: number, tokens: number): Array<number> => {
  const values = Float64Array.from(mask.dataSync());
  return Array.from({ length: samples }, (_, sample) =>
    values.subarray(sample * tokens, (sample + 1) * tokens).reduce((sum, value) => sum + value, 0),
  );
};

/**
 * Check shapes and per-sample arrays of an objective input against `logp`'s `[S, T]`, throwing an
 * `InvalidInputError` naming the field. Reads the mask (synchronously) only when `lengths` is not
 * given: pass `lengths` on a GPU backend.
 */
export const checkInput = (subject: string, input: ObjectiveInput<Tensor>): CheckedInput => {
  if (input.logp.rank !== 2)
    throw invalid(subject, "logp", `Expected a [S, T] tensor, got shape [${input.logp.shape.join(", ")}]`);
  const [samples = 0, tokens = 0] = input.logp.shape;
  checkShape(subject, "logpOld", input.logpOld, samples, tokens);
  checkShape(subject, "mask", input.mask, samples, tokens);
  if (input.logpRef !== undefined) checkShape(subject, "logpRef", input.logpRef, samples, tokens);
  const groups = groupCount(subject, samples, input.groupSize);
  checkLength(subject, "rewards", input.rewards, samples);
  checkFinite(subject, "rewards", input.rewards);
  checkLength(subject, "correct", input.correct, samples);
  const lengths = input.lengths ?? maskLengths(input.mask, samples, tokens);
  checkLength(subject, "lengths", lengths, samples);
  checkFinite(subject, "lengths", lengths);
  return { samples, tokens, groups, lengths };
};
