import type { MathNode } from "./ast.js";
import * as Q from "./rational.js";

/** Symbols that are constants, not free variables. */
const constants: Readonly<Record<string, number>> = { pi: Math.PI, e: Math.E };

/** Factorials above this are not computed exactly (5000! has 16 326 digits); larger ones compare in the log domain. */
const maximumExactFactorial = 5000n;

/** Drop exact values too large to keep computing with (the caller falls back to the log domain). */
const bounded = (value: Q.Rational | undefined): Q.Rational | undefined =>
  value === undefined || Q.sizeInBits(value) > Q.maximumExactBits ? undefined : value;

/** Exact value of a constant rational expression, or `undefined` (irrational, symbolic, too large). */
export const evaluateExact = (node: MathNode): Q.Rational | undefined => {
  try {
    return bounded(exactValue(node));
  } catch (error) {
    if (error instanceof Q.ExactArithmeticTooLargeError) return undefined;
    throw error;
  }
};

const exactValue = (node: MathNode): Q.Rational | undefined => {
  switch (node.kind) {
    case "number":
      return node.value;
    case "negate": {
      const value = evaluateExact(node.operand);
      return value === undefined ? undefined : Q.negate(value);
    }
    case "binary": {
      const left = evaluateExact(node.left);
      if (left === undefined) return undefined;
      const right = evaluateExact(node.right);
      if (right === undefined) return undefined;
      switch (node.operator) {
        case "+":
          return Q.add(left, right);
        case "-":
          return Q.add(left, Q.negate(right));
        case "*":
          return Q.multiply(left, right);
        case "/":
          return Q.divide(left, right);
        case "^":
          if (Q.equals(right, Q.rational(1n, 2n))) return Q.squareRoot(left);
          return Q.power(left, right);
      }
      return undefined;
    }
    case "apply":
      return exactApply(node.name, node.args);
    default:
      return undefined;
  }
};

const exactApply = (name: string, args: ReadonlyArray<MathNode>): Q.Rational | undefined => {
  const first = args[0];
  if (first === undefined) return undefined;
  const value = evaluateExact(first);
  if (value === undefined) return undefined;
  switch (name) {
    case "sqrt":
      return Q.squareRoot(value);
    case "abs":
      return value.numerator < 0n ? Q.negate(value) : value;
    case "factorial": {
      if (!Q.isInteger(value) || value.numerator < 0n || value.numerator > maximumExactFactorial)
        return undefined;
      let product = 1n;
      for (let factor = 2n; factor <= value.numerator; factor += 1n) product *= factor;
      return Q.rational(product);
    }
    default:
      return undefined;
  }
};

/** Deterministic pseudo-random value of an unknown function `f(args)`: equal inputs, equal outputs. */
const opaqueFunction = (name: string, args: ReadonlyArray<number>): number => {
  let hash = 2166136261;
  const key = `${name}(${args.map((value) => value.toPrecision(12)).join(",")})`;
  for (let index = 0; index < key.length; index += 1) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 16777619);
  }
  return ((hash >>> 0) / 4294967296) * 4 - 2;
};

const factorial = (value: number): number => {
  if (!Number.isInteger(value) || value < 0) return Number.NaN;
  if (value > 170) return Number.POSITIVE_INFINITY;
  let product = 1;
  for (let factor = 2; factor <= value; factor += 1) product *= factor;
  return product;
};

/** Floating-point value with free symbols taken from `scope` (missing symbols give NaN). */
/** Whether a symbol is a named constant (`pi`, `e`) rather than a free variable. */
export const isConstantSymbol = (name: string): boolean => constants[name] !== undefined;

/** Value of a named constant. */
export const constantValue = (name: string): number | undefined => constants[name];

export const evaluateFloat = (node: MathNode, scope: ReadonlyMap<string, number>): number => {
  switch (node.kind) {
    case "number":
      return Q.toNumber(node.value);
    case "symbol":
      return scope.get(node.name) ?? constants[node.name] ?? Number.NaN;
    case "word": {
      let product = 1;
      for (const letter of node.text) product *= scope.get(letter) ?? constants[letter] ?? Number.NaN;
      return product;
    }
    case "infinity":
      return Number.POSITIVE_INFINITY;
    case "negate":
      return -evaluateFloat(node.operand, scope);
    case "binary": {
      const left = evaluateFloat(node.left, scope);
      const right = evaluateFloat(node.right, scope);
      switch (node.operator) {
        case "+":
          return left + right;
        case "-":
          return left - right;
        case "*":
          return left * right;
        case "/":
          return left / right;
        case "^":
          return left ** right;
      }
      return Number.NaN;
    }
    case "apply":
      return floatApply(
        node.name,
        node.args.map((argument) => evaluateFloat(argument, scope)),
      );
    default:
      return Number.NaN;
  }
};

const floatApply = (name: string, args: ReadonlyArray<number>): number => {
  const [x = Number.NaN, y = Number.NaN] = args;
  switch (name) {
    case "sqrt":
      return Math.sqrt(x);
    case "root":
      return y === 3 || (Number.isInteger(y) && y % 2 === 1)
        ? Math.sign(x) * Math.abs(x) ** (1 / y)
        : x ** (1 / y);
    case "abs":
      return Math.abs(x);
    case "factorial":
      return factorial(x);
    case "binom":
      return factorial(x) / (factorial(y) * factorial(x - y));
    case "sin":
      return Math.sin(x);
    case "cos":
      return Math.cos(x);
    case "tan":
      return Math.tan(x);
    case "cot":
      return 1 / Math.tan(x);
    case "sec":
      return 1 / Math.cos(x);
    case "csc":
      return 1 / Math.sin(x);
    case "arcsin":
      return Math.asin(x);
    case "arccos":
      return Math.acos(x);
    case "arctan":
      return Math.atan(x);
    case "sinh":
      return Math.sinh(x);
    case "cosh":
      return Math.cosh(x);
    case "tanh":
      return Math.tanh(x);
    case "ln":
    case "log":
      return Math.log(x);
    case "lg":
      return Math.log10(x);
    case "logBase":
      return Math.log(x) / Math.log(y);
    case "exp":
      return Math.exp(x);
    default:
      return name.startsWith("user:") ? opaqueFunction(name, args) : Number.NaN;
  }
};

/** Names of the free variables of a scalar expression (constants `pi`, `e` excluded). */
export const collectSymbols = (node: MathNode, into: Set<string>): Set<string> => {
  switch (node.kind) {
    case "symbol":
      if (constants[node.name] === undefined) into.add(node.name);
      break;
    case "word":
      for (const letter of node.text) if (constants[letter] === undefined) into.add(letter);
      break;
    case "negate":
      collectSymbols(node.operand, into);
      break;
    case "binary":
      collectSymbols(node.left, into);
      collectSymbols(node.right, into);
      break;
    case "plusMinus":
      if (node.left !== undefined) collectSymbols(node.left, into);
      collectSymbols(node.right, into);
      break;
    case "apply":
      for (const argument of node.args) collectSymbols(argument, into);
      break;
    case "relation":
      for (const operand of node.operands) collectSymbols(operand, into);
      break;
    default:
      break;
  }
  return into;
};

/** Whether an expression contains a decimal literal (so it is an approximation). */
export const containsDecimal = (node: MathNode): boolean => {
  switch (node.kind) {
    case "number":
      return node.decimal === true;
    case "negate":
      return containsDecimal(node.operand);
    case "binary":
      return containsDecimal(node.left) || containsDecimal(node.right);
    case "apply":
      return node.args.some(containsDecimal);
    default:
      return false;
  }
};

/** Whether a node is a plain scalar expression (numbers, symbols, arithmetic, functions). */
export const isScalar = (node: MathNode): boolean => {
  switch (node.kind) {
    case "number":
    case "symbol":
    case "word":
    case "infinity":
      return true;
    case "negate":
      return isScalar(node.operand);
    case "binary":
      return isScalar(node.left) && isScalar(node.right);
    case "apply":
      return node.args.every(isScalar);
    default:
      return false;
  }
};
