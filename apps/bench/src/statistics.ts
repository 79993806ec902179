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

/** Coefficients of the Lanczos approximation of Γ (g = 7, nine terms). */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** `ln Γ(x)` for `x > 0` (Lanczos; reflection below ½). */
const logGamma = (x: number): number => {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const shifted = x - 1;
  let sum = LANCZOS[0]!;
  for (let index = 1; index < LANCZOS.length; index++) sum += LANCZOS[index]! / (shifted + index);
  const t = shifted + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(t) - t + Math.log(sum);
};

/** The continued fraction of the incomplete beta function (modified Lentz), for `x < (a+1)/(a+b+2)`. */
const betaFraction = (x: number, a: number, b: number): number => {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let fraction = d;
  for (let m = 1; m <= 300; m++) {
    for (const numerator of [
      (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)),
      -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)),
    ]) {
      d = 1 + numerator * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + numerator / c;
      if (Math.abs(c) < tiny) c = tiny;
      fraction *= c * d;
    }
    if (Math.abs(c * d - 1) < 1e-15) break;
  }
  return fraction;
};

/**
 * The regularised incomplete beta function `I_x(a, b)` for `0 ≤ x ≤ 1`, `a, b > 0`.
 *
 * @since 0.1.0
 * @category statistics
 */
export const regularizedIncompleteBeta = (x: number, a: number, b: number): number => {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2)
    ? (front * betaFraction(x, a, b)) / a
    : 1 - (front * betaFraction(1 - x, b, a)) / b;
};

/**
 * The cumulative distribution function of Student's t with `df` degrees of freedom.
 *
 * @since 0.1.0
 * @category statistics
 */
export const studentTCdf = (t: number, df: number): number => {
  const tail = 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
};

/**
 * The `p`-quantile of Student's t with `df` degrees of freedom (`0 < p < 1`, `df > 0`), by
 * bisection of {@link studentTCdf} to 1e-12.
 *
 * @since 0.1.0
 * @category statistics
 */
export const studentTQuantile = (p: number, df: number): number => {
  if (!(p > 0 && p < 1 && df > 0)) throw new RangeError(`studentTQuantile needs 0 < p < 1 and df > 0`);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let low = 0;
  let high = 1;
  while (studentTCdf(high, df) < p) high *= 2;
  while (high - low > 1e-12 * Math.max(1, high)) {
    const middle = (low + high) / 2;
    if (studentTCdf(middle, df) < p) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
};

/**
 * A seed-paired difference `treatment − control` with its two-sided confidence interval (Student's
 * t on the per-seed differences): `mean ± t_{(1+level)/2, n−1} · std / √n`. `low`/`high` are `null`
 * with fewer than two pairs.
 *
 * @since 0.1.0
 * @category statistics
 */
export interface PairedDifference {
  readonly mean: number | null;
  readonly std: number | null;
  readonly n: number;
  readonly level: number;
  readonly low: number | null;
  readonly high: number | null;
}

/**
 * {@link PairedDifference} of two equally long lists whose entries pair up by position (the same
 * seed); pairs where either value is missing are dropped.
 *
 * @since 0.1.0
 * @category statistics
 */
export const pairedDifference = (
  treatment: ReadonlyArray<number | null>,
  control: ReadonlyArray<number | null>,
  level = 0.95,
): PairedDifference => {
  if (treatment.length !== control.length)
    throw new RangeError(`pairedDifference needs equal lengths (${treatment.length} vs ${control.length})`);
  const differences = treatment.flatMap((value, index) => {
    const other = control[index];
    return value === null || other === null || other === undefined ? [] : [value - other];
  });
  const average = mean(differences);
  const std = standardDeviation(differences);
  const n = differences.length;
  if (average === null || std === null || n < 2)
    return { mean: average, std, n, level, low: null, high: null };
  const half = studentTQuantile((1 + level) / 2, n - 1) * (std / Math.sqrt(n));
  return { mean: average, std, n, level, low: average - half, high: average + half };
};
