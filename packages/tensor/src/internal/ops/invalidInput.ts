import { InvalidInputError } from "@apo-rl/core";
import type * as tf from "@tensorflow/tfjs-core";
import { readHostValues } from "../../backend/readHostValues.js";

/** Build the typed error every op throws for a bad argument: `subject` is the op, `field` the argument. */
export const invalidInput = (op: string, field: string, reason: string): InvalidInputError =>
  new InvalidInputError({ subject: op, field, reason, problems: [{ field, reason }] });

const describeShape = (shape: ReadonlyArray<number>): string => `[${shape.join(", ")}]`;

/** Throw unless `tensor` has the given rank. */
export const requireRank = (op: string, field: string, tensor: tf.Tensor, rank: number): void => {
  if (tensor.rank !== rank) {
    throw invalidInput(op, field, `expected a rank-${rank} tensor, got shape ${describeShape(tensor.shape)}`);
  }
};

/** Throw unless `tensor` has exactly `shape`. */
export const requireShape = (
  op: string,
  field: string,
  tensor: tf.Tensor,
  shape: ReadonlyArray<number>,
): void => {
  const same = tensor.rank === shape.length && tensor.shape.every((size, axis) => size === shape[axis]);
  if (!same) {
    throw invalidInput(
      op,
      field,
      `expected shape ${describeShape(shape)}, got ${describeShape(tensor.shape)}`,
    );
  }
};

/** Throw unless `tensor` is a floating-point tensor. */
export const requireFloat = (op: string, field: string, tensor: tf.Tensor): void => {
  if (tensor.dtype !== "float32") {
    throw invalidInput(op, field, `expected a float32 tensor, got ${tensor.dtype}`);
  }
};

/** Throw unless `value` is a positive integer (or undefined). */
export const requirePositiveInteger = (op: string, field: string, value: number | undefined): void => {
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    throw invalidInput(op, field, `expected a positive integer, got ${value}`);
  }
};

/**
 * Throw unless `targets` is an int32 vector of `rows` token ids inside `[0, vocabulary)`. Reads the
 * (small) targets back to name the first offending row — on a device backend only when they are
 * still on the host (see `hostValues`); ids already on the GPU are not range-checked there.
 */
export const requireTargets = (op: string, targets: tf.Tensor, rows: number, vocabulary: number): void => {
  requireShape(op, "targets", targets, [rows]);
  if (targets.dtype !== "int32") {
    throw invalidInput(op, "targets", `expected an int32 tensor of token ids, got ${targets.dtype}`);
  }
  const ids = readHostValues(targets);
  if (ids === undefined) return;
  for (let row = 0; row < ids.length; row++) {
    const id = ids[row]!;
    if (id < 0 || id >= vocabulary) {
      throw invalidInput(
        op,
        `targets[${row}]`,
        `token id ${id} is outside the vocabulary [0, ${vocabulary})`,
      );
    }
  }
};
