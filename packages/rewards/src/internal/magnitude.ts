import type { MathNode } from "./ast.js";
import { constantValue, evaluateExact, evaluateFloat } from "./evaluate.js";
import * as Q from "./rational.js";

/**
 * Values too large or too small for a double (`2^{5000}`, `1000!`, `e^{-1000}`, `10^{10^{10}}`),
 * kept as a sign and the natural logarithm of the magnitude. Comparing these never treats "both
 * overflowed" or "both underflowed" as equal: `e^{1000}` and `\pi^{1000}` differ by 144 in the log.
 * `undefined` means the magnitude cannot be known (symbols, cancellation of huge terms, a tower
 * whose logarithm itself overflows): the caller then does not call the two values equal.
 */
export interface Magnitude {
  /** −1, 0 (exactly zero) or 1. */
  readonly sign: -1 | 0 | 1;
  /** ln |value|; `Infinity` for ∞. Meaningless when `sign` is 0. */
  readonly log: number;
}

const zero: Magnitude = { sign: 0, log: Number.NEGATIVE_INFINITY };

const fromNumber = (value: number): Magnitude | undefined => {
  if (Number.isNaN(value)) return undefined;
  if (value === 0) return zero;
  if (!Number.isFinite(value)) return { sign: value > 0 ? 1 : -1, log: Number.POSITIVE_INFINITY };
  return { sign: value > 0 ? 1 : -1, log: Math.log(Math.abs(value)) };
};

/** ln |n| for a big integer of any size. */
const logOfInteger = (value: bigint): number => {
  const magnitude = value < 0n ? -value : value;
  const bits = magnitude.toString(2).length;
  if (bits <= 1000) return Math.log(Number(magnitude));
  const shift = bits - 64;
  return Math.log(Number(magnitude >> BigInt(shift))) + shift * Math.LN2;
};

const fromRational = (value: Q.Rational): Magnitude => {
  if (value.numerator === 0n) return zero;
  return {
    sign: value.numerator > 0n ? 1 : -1,
    log: logOfInteger(value.numerator) - logOfInteger(value.denominator),
  };
};

/** ln Γ(x + 1) = ln x! by Stirling's series (accurate to ~1e-15 relative for x > 170). */
const logFactorial = (value: number): number => {
  if (value <= 170) {
    let product = 1;
    for (let factor = 2; factor <= value; factor += 1) product *= factor;
    return Math.log(product);
  }
  const x = value + 1;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3);
};

/** a + b for signed logs; `undefined` when huge terms cancel (the result's size is unknown). */
const addMagnitudes = (left: Magnitude, right: Magnitude): Magnitude | undefined => {
  if (left.sign === 0) return right;
  if (right.sign === 0) return left;
  if (left.log === Number.POSITIVE_INFINITY || right.log === Number.POSITIVE_INFINITY) {
    if (left.log === right.log && left.sign !== right.sign) return undefined;
    return left.log === Number.POSITIVE_INFINITY ? left : right;
  }
  const [large, small] = left.log >= right.log ? [left, right] : [right, left];
  const gap = small.log - large.log;
  if (large.sign === small.sign) return { sign: large.sign, log: large.log + Math.log1p(Math.exp(gap)) };
  if (gap > -1e-9) return undefined;
  return { sign: large.sign, log: large.log + Math.log1p(-Math.exp(gap)) };
};

const floatOf = (node: MathNode): number => evaluateFloat(node, new Map());

/** An exponent as a number, when it is a finite constant. */
const exponentValue = (node: MathNode): number | undefined => {
  const value = floatOf(node);
  return Number.isFinite(value) ? value : undefined;
};

/** Sign and log-magnitude of a constant expression, or `undefined` when it cannot be known. */
export const magnitudeOf = (node: MathNode): Magnitude | undefined => {
  const exact = evaluateExact(node);
  return exact === undefined ? magnitude(node) : fromRational(exact);
};

const magnitude = (node: MathNode): Magnitude | undefined => {
  switch (node.kind) {
    case "number":
      return fromRational(node.value);
    case "infinity":
      return { sign: 1, log: Number.POSITIVE_INFINITY };
    case "symbol": {
      const value = constantValue(node.name);
      return value === undefined ? undefined : fromNumber(value);
    }
    case "negate": {
      const operand = magnitude(node.operand);
      return operand === undefined
        ? undefined
        : { sign: (-operand.sign || 0) as Magnitude["sign"], log: operand.log };
    }
    case "binary":
      return binaryMagnitude(node.operator, node.left, node.right);
    case "apply":
      return applyMagnitude(node.name, node.args);
    default:
      return undefined;
  }
};

const binaryMagnitude = (
  operator: "+" | "-" | "*" | "/" | "^",
  leftNode: MathNode,
  rightNode: MathNode,
): Magnitude | undefined => {
  const left = magnitude(leftNode);
  if (left === undefined) return undefined;
  if (operator === "^") return powerMagnitude(left, rightNode);
  const right = magnitude(rightNode);
  if (right === undefined) return undefined;
  switch (operator) {
    case "+":
      return addMagnitudes(left, right);
    case "-":
      return addMagnitudes(left, { sign: (-right.sign || 0) as Magnitude["sign"], log: right.log });
    case "*":
      if (left.sign === 0 || right.sign === 0) return zero;
      return { sign: (left.sign * right.sign) as Magnitude["sign"], log: left.log + right.log };
    case "/":
      if (right.sign === 0) return undefined;
      if (left.sign === 0) return zero;
      return { sign: (left.sign * right.sign) as Magnitude["sign"], log: left.log - right.log };
  }
};

const powerMagnitude = (base: Magnitude, exponentNode: MathNode): Magnitude | undefined => {
  const exponent = exponentValue(exponentNode);
  if (exponent === undefined) return undefined;
  if (base.sign === 0) return exponent > 0 ? zero : undefined;
  const log = exponent * base.log;
  if (Number.isNaN(log) || !Number.isFinite(log)) return undefined;
  if (base.sign > 0) return { sign: 1, log };
  // A negative base needs an integer exponent, whose parity gives the sign.
  const exact = evaluateExact(exponentNode);
  if (exact === undefined || !Q.isInteger(exact)) return undefined;
  return { sign: exact.numerator % 2n === 0n ? 1 : -1, log };
};

const applyMagnitude = (name: string, args: ReadonlyArray<MathNode>): Magnitude | undefined => {
  const [first] = args;
  if (first === undefined) return undefined;
  switch (name) {
    case "sqrt": {
      const value = magnitude(first);
      if (value === undefined || value.sign < 0) return undefined;
      return value.sign === 0 ? zero : { sign: 1, log: value.log / 2 };
    }
    case "abs": {
      const value = magnitude(first);
      return value === undefined ? undefined : { sign: value.sign === 0 ? 0 : 1, log: value.log };
    }
    case "exp": {
      const value = exponentValue(first);
      return value === undefined ? undefined : { sign: 1, log: value };
    }
    case "factorial": {
      const exact = evaluateExact(first);
      const value =
        exact !== undefined && Q.isInteger(exact) ? Number(exact.numerator) : exponentValue(first);
      if (value === undefined || !Number.isInteger(value) || value < 0 || !Number.isFinite(value))
        return undefined;
      return { sign: 1, log: logFactorial(value) };
    }
    case "ln":
    case "log": {
      const value = magnitude(first);
      if (value === undefined || value.sign <= 0 || !Number.isFinite(value.log)) return undefined;
      return fromNumber(value.log);
    }
    default:
      return fromNumber(evaluateFloat({ kind: "apply", name, args }, new Map()));
  }
};

/**
 * Whether two constants agree within `relativeTolerance`, judged in the log domain:
 * |ln a − ln b| ≤ tolerance, plus the rounding of a double log of that size.
 */
export const magnitudesClose = (left: Magnitude, right: Magnitude, relativeTolerance: number): boolean => {
  if (left.sign !== right.sign) return false;
  if (left.sign === 0) return true;
  if (left.log === Number.POSITIVE_INFINITY || right.log === Number.POSITIVE_INFINITY)
    return left.log === right.log;
  const rounding = 1e-14 * Math.max(1, Math.abs(left.log), Math.abs(right.log));
  return Math.abs(left.log - right.log) <= relativeTolerance + rounding;
};
