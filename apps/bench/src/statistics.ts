/**
 * Arithmetic mean; `null` for no values.
 *
 * @since 0.1.0
 * @category statistics
 */
export const mean = (values: ReadonlyArray<number>): number | null =>
  values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;

/**
 * Sample standard deviation (divisor `n − 1`); 0 for one value, `null` for none.
 *
 * @since 0.1.0
 * @category statistics
 */
export const standardDeviation = (values: ReadonlyArray<number>): number | null => {
  const average = mean(values);
  if (average === null) return null;
  if (values.length === 1) return 0;
  const squares = values.reduce((sum, value) => sum + (value - average) ** 2, 0);
  return Math.sqrt(squares / (values.length - 1));
};

/**
 * Median (the mean of the two middle values for an even count); `null` for no values.
 *
 * @since 0.1.0
 * @category statistics
 */
export const median = (values: ReadonlyArray<number>): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/**
 * The unbiased pass@k estimate of one prompt from `n` samples of which `c` are correct
 * (Chen et al., 2021): `1 − C(n − c, k) / C(n, k)`, computed as the product
 * `∏_{i = n − c + 1}^{n} (1 − k / i)` for numerical stability. Requires `1 ≤ k ≤ n`.
 *
 * @since 0.1.0
 * @category statistics
 */
export const passAtK = (n: number, c: number, k: number): number => {
  if (
    !(Number.isInteger(n) && Number.isInteger(c) && Number.isInteger(k)) ||
    k < 1 ||
    k > n ||
    c < 0 ||
    c > n
  )
    throw new RangeError(`passAtK needs integers 1 ≤ k ≤ n and 0 ≤ c ≤ n (n = ${n}, c = ${c}, k = ${k})`);
  if (n - c < k) return 1;
  let missAll = 1;
  for (let i = n - c + 1; i <= n; i++) missAll *= 1 - k / i;
  return 1 - missAll;
};
