import type { ObjectiveMicroBatch, SampleBatch } from "@apo-rl/core";
import type { Tensor } from "@tensorflow/tfjs-core";
import { checkFinite, checkLength, groupCount } from "./internal/groups.js";
import { invalid } from "./internal/invalid.js";

/**
 * Check a step's samples before computing advantages: `groupSize` splits them into whole groups,
 * and `rewards`, `correct` and `lengths` have one (finite) entry per sample. Throws an
 * `InvalidInputError` whose `subject` is `subject` and whose `field` names the offending array
 * entry. Returns the number of groups.
 *
 * @since 0.2.0
 * @category building blocks
 */
export const checkSampleBatch = (subject: string, batch: SampleBatch): number => {
  const samples = batch.rewards.length;
  const groups = groupCount(subject, samples, batch.groupSize);
  checkFinite(subject, "rewards", batch.rewards);
  checkLength(subject, "correct", batch.correct, samples);
  checkLength(subject, "lengths", batch.lengths, samples);
  checkFinite(subject, "lengths", batch.lengths);
  return groups;
};

const checkShape = (subject: string, field: string, tensor: Tensor, rows: number, tokens: number) => {
  const [actualRows, columns] = tensor.shape;
  if (tensor.rank !== 2 || actualRows !== rows || columns !== tokens)
    throw invalid(subject, field, `Expected shape [${rows}, ${tokens}], got [${tensor.shape.join(", ")}]`);
};

/**
 * Check one micro-batch without reading any tensor: `logp` is `[R, T]`; `logpOld`, `mask` and the
 * optional `logpRef`, `entropy`, `tokenWeights` share that shape; every per-sample array of
 * `samples` has `R` finite entries. Throws an `InvalidInputError` naming the field. Returns
 * `{ rows: R, tokens: T }`.
 *
 * @since 0.2.0
 * @category building blocks
 */
export const checkMicroBatch = (
  subject: string,
  input: ObjectiveMicroBatch<Tensor>,
): { readonly rows: number; readonly tokens: number } => {
  if (input.logp.rank !== 2)
    throw invalid(subject, "logp", `Expected a [R, T] tensor, got shape [${input.logp.shape.join(", ")}]`);
  const [rows = 0, tokens = 0] = input.logp.shape;
  checkShape(subject, "logpOld", input.logpOld, rows, tokens);
  checkShape(subject, "mask", input.mask, rows, tokens);
  for (const field of ["logpRef", "entropy", "tokenWeights"] as const) {
    const tensor = input[field];
    if (tensor !== undefined) checkShape(subject, field, tensor, rows, tokens);
  }
  if (input.samples.advantage === undefined)
    throw invalid(subject, "samples.advantage", "Expected the rows' advantages");
  for (const [key, values] of Object.entries(input.samples)) {
    checkLength(subject, `samples.${key}`, values, rows);
    checkFinite(subject, `samples.${key}`, values);
  }
  return { rows, tokens };
};
