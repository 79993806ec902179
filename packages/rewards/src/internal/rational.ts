/**
 * Exact rational numbers on BigInt, always in lowest terms with a positive denominator.
 * Operations that would build huge numbers (powers) are bounded and return `undefined`, so the
 * caller falls back to floating point instead of allocating gigabytes.
 */
export interface Rational {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

/**
 * Largest result (in bits) an exact power may produce: `3^{5000}` (7 925 bits) and `2^{-5000}` are
 * exact; beyond this the caller compares in the log domain instead.
 */
const maximumPowerBits = 131_072n;

/** Largest exact intermediate result (bits of numerator + denominator) evaluation keeps. */
export const maximumExactBits = 262_144;

/** Values below 2^1024 are far inside every bound: their size is not measured. */
const smallBound = 1n << 1024n;

/** Rough size in bits (numerator + denominator), cheap enough to check after every operation. */
export const sizeInBits = (value: Rational): number =>
  value.numerator < smallBound && value.numerator > -smallBound && value.denominator < smallBound
    ? 0
    : value.numerator.toString(16).length * 4 + value.denominator.toString(16).length * 4;

const absolute = (value: bigint): bigint => (value < 0n ? -value : value);

const greatestCommonDivisor = (left: bigint, right: bigint): bigint => {
  let a = absolute(left);
  let b = absolute(right);
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
};

/**
 * Raised instead of reducing a fraction whose numerator and denominator both exceed 2^6000: Euclid's
 * algorithm on such numbers takes seconds. Exact evaluation then gives up and the values are compared
 * in the log domain.
 */
export class ExactArithmeticTooLargeError extends Error {
  override readonly name = "ExactArithmeticTooLargeError";
}

const reductionLimit = 1n << 6000n;

export const rational = (numerator: bigint, denominator = 1n): Rational => {
  if (denominator === 0n) throw new RangeError("rational with zero denominator");
  if (
    (denominator > reductionLimit || denominator < -reductionLimit) &&
    (numerator > reductionLimit || numerator < -reductionLimit)
  ) {
    throw new ExactArithmeticTooLargeError("fraction too large to reduce exactly");
  }
  const sign = denominator < 0n ? -1n : 1n;
  const divisor = greatestCommonDivisor(numerator, denominator) || 1n;
  return { numerator: (sign * numerator) / divisor, denominator: (sign * denominator) / divisor };
};

export const ZERO = rational(0n);
export const ONE = rational(1n);

/** Parse a decimal literal such as `12`, `0.125`, `.5` or `1.5e-3` exactly. */
export const parseDecimal = (text: string): Rational | undefined => {
  const match = /^(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/.exec(text);
  if (match === null) return undefined;
  const whole = match[1] ?? "";
  const fraction = match[2] ?? "";
  if (whole === "" && fraction === "") return undefined;
  const digits = BigInt(`${whole}${fraction}` || "0");
  const exponent = Number(match[3] ?? "0") - fraction.length;
  return exponent >= 0
    ? rational(digits * 10n ** BigInt(exponent))
    : rational(digits, 10n ** BigInt(-exponent));
};

export const add = (left: Rational, right: Rational): Rational =>
  rational(
    left.numerator * right.denominator + right.numerator * left.denominator,
    left.denominator * right.denominator,
  );

export const negate = (value: Rational): Rational => rational(-value.numerator, value.denominator);

export const multiply = (left: Rational, right: Rational): Rational =>
  rational(left.numerator * right.numerator, left.denominator * right.denominator);

export const divide = (left: Rational, right: Rational): Rational | undefined =>
  right.numerator === 0n
    ? undefined
    : rational(left.numerator * right.denominator, left.denominator * right.numerator);

export const isInteger = (value: Rational): boolean => value.denominator === 1n;

export const equals = (left: Rational, right: Rational): boolean =>
  left.numerator === right.numerator && left.denominator === right.denominator;

const bitLength = (value: bigint): bigint => BigInt(absolute(value).toString(2).length);

/** `base ^ exponent` for an integer exponent, or `undefined` when the result would be too large. */
export const power = (base: Rational, exponent: Rational): Rational | undefined => {
  if (!isInteger(exponent)) return undefined;
  const magnitude = absolute(exponent.numerator);
  const bits = bitLength(base.numerator) + bitLength(base.denominator);
  if (magnitude > maximumPowerBits || bits * magnitude > maximumPowerBits) return undefined;
  const raised = rational(base.numerator ** magnitude, base.denominator ** magnitude);
  return exponent.numerator < 0n ? divide(ONE, raised) : raised;
};

/** ⌊√value⌋ by Newton's method on BigInt (a double's estimate is too coarse beyond 2^53). */
const integerSquareRoot = (value: bigint): bigint | undefined => {
  if (value < 0n) return undefined;
  if (value < 2n) return value;
  let estimate = 1n << BigInt(Math.ceil(value.toString(2).length / 2));
  for (;;) {
    const next = (estimate + value / estimate) >> 1n;
    if (next >= estimate) break;
    estimate = next;
  }
  while (estimate * estimate > value) estimate -= 1n;
  while ((estimate + 1n) * (estimate + 1n) <= value) estimate += 1n;
  return estimate;
};

/** Exact square root when numerator and denominator are perfect squares. */
export const squareRoot = (value: Rational): Rational | undefined => {
  if (value.numerator < 0n || bitLength(value.numerator) > 2000n) return undefined;
  const top = integerSquareRoot(value.numerator);
  const bottom = integerSquareRoot(value.denominator);
  if (top === undefined || bottom === undefined) return undefined;
  return top * top === value.numerator && bottom * bottom === value.denominator
    ? rational(top, bottom)
    : undefined;
};

export const toNumber = (value: Rational): number => {
  const numerator = Number(value.numerator);
  const denominator = Number(value.denominator);
  if (Number.isFinite(numerator) && Number.isFinite(denominator)) return numerator / denominator;
  // Scale both down to keep the quotient finite when the parts overflow a double.
  const shift = bitLength(value.denominator) > 1000n ? bitLength(value.denominator) - 1000n : 0n;
  const shiftTop = bitLength(value.numerator) > 1000n ? bitLength(value.numerator) - 1000n : 0n;
  return (
    (Number(value.numerator >> shiftTop) / Number(value.denominator >> shift)) * 2 ** Number(shiftTop - shift)
  );
};

export const format = (value: Rational): string =>
  value.denominator === 1n ? value.numerator.toString() : `${value.numerator}/${value.denominator}`;
