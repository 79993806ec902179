import { invalid } from "./invalid.js";

/**
 * Check that `length` samples split into whole groups of `groupSize` consecutive rows; throws an
 * `InvalidInputError` naming `groupSize` otherwise. Returns the number of groups.
 */
export const groupCount = (subject: string, length: number, groupSize: number): number => {
  if (!Number.isInteger(groupSize) || groupSize < 1)
    throw invalid(subject, "groupSize", `Expected a positive integer, got ${groupSize}`);
  if (length % groupSize !== 0)
    throw invalid(
      subject,
      "groupSize",
      `Expected the ${length} samples to split into whole groups of ${groupSize}`,
    );
  return length / groupSize;
};

/** Check that a per-sample array has `expected` entries; throws naming `field` otherwise. */
export const checkLength = (
  subject: string,
  field: string,
  values: ReadonlyArray<unknown>,
  expected: number,
): void => {
  if (values.length !== expected)
    throw invalid(subject, field, `Expected ${expected} entries (one per sample), got ${values.length}`);
};

/** Check that every entry is a finite number; throws naming `field[index]` otherwise. */
export const checkFinite = (subject: string, field: string, values: ReadonlyArray<number>): void => {
  const index = values.findIndex((value) => !Number.isFinite(value));
  if (index !== -1)
    throw invalid(subject, `${field}[${index}]`, `Expected a finite number, got ${values[index]}`);
};

/** The values of group `group` (rows `group·G … group·G + G − 1`). */
export const groupSlice = <A>(values: ReadonlyArray<A>, group: number, groupSize: number): ReadonlyArray<A> =>
  values.slice(group * groupSize, (group + 1) * groupSize);

/** Arithmetic mean (0 for an empty list). */
export const mean = (values: ReadonlyArray<number>): number =>
  values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;

/** Unbiased sample standard deviation (divide by `n − 1`); 0 when fewer than two values. */
export const sampleStd = (values: ReadonlyArray<number>): number => {
  if (values.length < 2) return 0;
  const centre = mean(values);
  const squares = values.reduce((sum, value) => sum + (value - centre) ** 2, 0);
  return Math.sqrt(squares / (values.length - 1));
};
