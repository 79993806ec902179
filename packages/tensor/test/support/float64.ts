// Plain-JS float64 references for the kernel tests: independent of every tfjs kernel.

/** A deterministic pseudo-random sequence in [-1, 1) (mulberry32). */
export const seededValues = (count: number, seed: number): Array<number> => {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  });
};

const sizeOf = (shape: ReadonlyArray<number>) => shape.reduce((product, size) => product * size, 1);

/** Row-major strides of a shape. */
const stridesOf = (shape: ReadonlyArray<number>): Array<number> =>
  shape.map((_, axis) => sizeOf(shape.slice(axis + 1)));

/** A dense float64 array with its shape. */
export interface Dense {
  readonly shape: ReadonlyArray<number>;
  readonly values: ReadonlyArray<number>;
}

/**
 * einsum by brute force: iterate over every assignment of every index letter, multiply the
 * operands' entries and add into the output entry. Float64 throughout.
 */
export const einsum64 = (equation: string, operands: ReadonlyArray<Dense>): Dense => {
  const [left = "", output = ""] = equation.split("->");
  const terms = left.split(",");
  const sizes = new Map<string, number>();
  terms.forEach((term, index) => {
    [...term].forEach((letter, axis) => {
      sizes.set(letter, (operands[index] as Dense).shape[axis] as number);
    });
  });
  const letters = [...sizes.keys()];
  const outputShape = [...output].map((letter) => sizes.get(letter) as number);
  const result = new Array<number>(sizeOf(outputShape)).fill(0);
  const outputStrides = stridesOf(outputShape);
  const termStrides = terms.map((_, index) => stridesOf((operands[index] as Dense).shape));
  const assignment = new Map<string, number>();
  const offset = (term: string, strides: ReadonlyArray<number>) =>
    [...term].reduce(
      (sum, letter, axis) => sum + (assignment.get(letter) as number) * (strides[axis] as number),
      0,
    );
  const visit = (depth: number): void => {
    if (depth === letters.length) {
      let product = 1;
      terms.forEach((term, index) => {
        product *= (operands[index] as Dense).values[
          offset(term, termStrides[index] as Array<number>)
        ] as number;
      });
      const at = offset(output, outputStrides);
      result[at] = (result[at] as number) + product;
      return;
    }
    const letter = letters[depth] as string;
    for (let value = 0; value < (sizes.get(letter) as number); value++) {
      assignment.set(letter, value);
      visit(depth + 1);
    }
  };
  visit(0);
  return { shape: outputShape, values: result };
};

/**
 * Central finite-difference gradient of a scalar float64 function of `values`. For the linear
 * losses used here it is exact up to rounding.
 */
export const finiteDifference = (
  values: ReadonlyArray<number>,
  loss: (values: ReadonlyArray<number>) => number,
  step = 1e-3,
): Array<number> =>
  values.map((_, index) => {
    const plus = [...values];
    const minus = [...values];
    plus[index] = (plus[index] as number) + step;
    minus[index] = (minus[index] as number) - step;
    return (loss(plus) - loss(minus)) / (2 * step);
  });

/** `Σ_i a[i]·b[i]` in float64. */
export const dot = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number =>
  a.reduce((sum, value, index) => sum + value * (b[index] as number), 0);

/**
 * NHWC 2-D convolution (cross-correlation, as tfjs) with explicit zero padding `[top, left]` and the
 * output size given, float64.
 */
export const conv2d64 = (
  x: Dense,
  filter: Dense,
  stride: number,
  padding: readonly [number, number],
  outSize: readonly [number, number],
): Dense => {
  const [batch, height, width, inChannels] = x.shape as [number, number, number, number];
  const [filterHeight, filterWidth, , outChannels] = filter.shape as [number, number, number, number];
  const [outHeight, outWidth] = outSize;
  const values = new Array<number>(batch * outHeight * outWidth * outChannels).fill(0);
  for (let b = 0; b < batch; b++)
    for (let oh = 0; oh < outHeight; oh++)
      for (let ow = 0; ow < outWidth; ow++)
        for (let oc = 0; oc < outChannels; oc++) {
          let sum = 0;
          for (let fh = 0; fh < filterHeight; fh++)
            for (let fw = 0; fw < filterWidth; fw++) {
              const h = oh * stride + fh - padding[0];
              const w = ow * stride + fw - padding[1];
              if (h < 0 || h >= height || w < 0 || w >= width) continue;
              for (let ic = 0; ic < inChannels; ic++)
                sum +=
                  (x.values[((b * height + h) * width + w) * inChannels + ic] as number) *
                  (filter.values[((fh * filterWidth + fw) * inChannels + ic) * outChannels + oc] as number);
            }
          values[((b * outHeight + oh) * outWidth + ow) * outChannels + oc] = sum;
        }
  return { shape: [batch, outHeight, outWidth, outChannels], values };
};
