import type { ObjectiveInput } from "@apo-rl/core";
import { readHostValues } from "@apo-rl/tensor/portable";
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
  /**
   * The mask as a flat row-major float64 array, or `undefined` when it is not readable without a
   * device round-trip (on a GPU backend, once uploaded); `lengths` then came from the caller.
   */
  readonly mask: Float64Array | undefined;
}

const checkShape = (subject: string, field: string, tensor: Tensor, samples: number, tokens: number) => {
  const [rows, columns] = tensor.shape;
  if (tensor.rank !== 2 || rows !== samples || columns !== tokens)
    throw invalid(subject, field, `Expected shape [${samples}, ${tokens}], got [${tensor.shape.join(", ")}]`);
};

/**
 * Check shapes and per-sample arrays of an objective input against `logp`'s `[S, T]`, throwing an
 * `InvalidInputError` naming the field. Reads the mask once, and only from the host: on a GPU
 * backend a mask already on the device is not read, and `input.lengths` must then be given.
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
  const values = readHostValues(input.mask);
  const mask = values === undefined ? undefined : Float64Array.from(values);
  if (mask === undefined && input.lengths === undefined)
    throw invalid(
      subject,
      "lengths",
      "The mask is on the GPU and cannot be read synchronously: pass `lengths` (the response length of every sample) on a GPU backend",
    );
  const lengths =
    input.lengths ??
    Array.from({ length: samples }, (_, sample) =>
      mask!.subarray(sample * tokens, (sample + 1) * tokens).reduce((sum, value) => sum + value, 0),
    );
  checkLength(subject, "lengths", lengths, samples);
  checkFinite(subject, "lengths", lengths);
  return { samples, tokens, groups, lengths, mask };
};
