/** Bits of the fixed-point filter weights (Pillow: 32 − 8 − 2). */
export const PRECISION_BITS = 22;
const ONE = 2 ** PRECISION_BITS;
const CUBIC_A = -0.5;
const CUBIC_SUPPORT = 2;

/** The Keys cubic convolution kernel with `a = −0.5`, evaluated in the same order as Pillow. */
export const cubicKernel = (x: number): number => {
  const t = Math.abs(x);
  if (t < 1) return ((CUBIC_A + 2) * t - (CUBIC_A + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * CUBIC_A;
  return 0;
};

/**
 * The taps of one resampling pass from `inSize` to `outSize` samples: for output `i`, source samples
 * `start[i] … start[i] + count[i] − 1` with integer weights `weights[i · taps + j]` (2²² = 1.0).
 */
export interface PassCoefficients {
  readonly start: Int32Array;
  readonly count: Int32Array;
  /** Fixed-point weights, `taps` per output sample (unused tail entries are 0). */
  readonly weights: Int32Array;
  readonly taps: number;
}

/** Truncation toward zero, as a C cast from double to int. */
const truncate = Math.trunc;

/** The normalised double weights of output sample `i`, and their first source index. */
const floatWeights = (
  inSize: number,
  scale: number,
  filterScale: number,
  i: number,
): { readonly start: number; readonly weights: ReadonlyArray<number> } => {
  const support = CUBIC_SUPPORT * filterScale;
  const center = (i + 0.5) * scale;
  const inverseFilterScale = 1 / filterScale;
  const start = Math.max(0, truncate(center - support + 0.5));
  const end = Math.min(inSize, truncate(center + support + 0.5));
  const weights: Array<number> = [];
  let total = 0;
  for (let j = 0; j < end - start; j++) {
    const weight = cubicKernel((start + j - center + 0.5) * inverseFilterScale);
    weights.push(weight);
    total += weight;
  }
  return { start, weights: total === 0 ? weights : weights.map((weight) => weight / total) };
};

/** Round a weight to the fixed-point grid: half away from zero, then truncate (Pillow's convention). */
export const toFixedPoint = (weight: number): number =>
  truncate(weight < 0 ? weight * ONE - 0.5 : weight * ONE + 0.5);

/** Coefficients of Pillow's BICUBIC filter (antialiased when shrinking) for one pass. */
export const bicubicPassCoefficients = (inSize: number, outSize: number): PassCoefficients => {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const taps = Math.ceil(CUBIC_SUPPORT * filterScale) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  for (let i = 0; i < outSize; i++) {
    const sample = floatWeights(inSize, scale, filterScale, i);
    start[i] = sample.start;
    count[i] = sample.weights.length;
    sample.weights.forEach((weight, j) => {
      weights[i * taps + j] = toFixedPoint(weight);
    });
  }
  return { start, count, weights, taps };
};

/** `(2²¹ + sum) >> 22`, clamped to `[0, 255]`: exact for the integer sums of a pass. */
export const clampToByte = (sum: number): number => {
  const value = Math.floor((sum + ONE / 2) / ONE);
  return Math.min(255, Math.max(0, value));
};
