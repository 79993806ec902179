import type { MathNode } from "./ast.js";
import { evaluateExact, evaluateFloat } from "./evaluate.js";

/**
 * Symbolic fallback through mathjs. Only reached when random-point evaluation cannot decide (the
 * expressions are undefined at almost every sample point). mathjs is loaded lazily and synchronously
 * on first use because its import costs about a second; the expression handed to it is built from
 * our own parse tree with a fixed set of function names, never from model text.
 */
interface MathjsSubset {
  simplify(expression: string): { toString(): string };
}

let mathjs: MathjsSubset | undefined;

let loadListener: ((milliseconds: number) => void) | undefined;

/** Be told how long loading mathjs took (pool workers move their start stamp by it). */
export const onSymbolicLoad = (listener: (milliseconds: number) => void): void => {
  loadListener = listener;
};

interface NodeModuleBuiltin {
  createRequire(url: string): (id: string) => unknown;
}

/**
 * Node's `require` for this module, reached through `process.getBuiltinModule` rather than a static
 * `node:module` import, so that the verifiers also bundle for a browser (where the symbolic fallback
 * is unavailable and says so).
 */
const requireFromHere = (id: string): unknown => {
  const getBuiltinModule = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } })
    .process?.getBuiltinModule;
  if (getBuiltinModule === undefined)
    throw new Error("the symbolic fallback (mathjs) needs Node ≥ 20.16 (process.getBuiltinModule)");
  return (getBuiltinModule("node:module") as NodeModuleBuiltin).createRequire(import.meta.url)(id);
};

const load = (): MathjsSubset => {
  if (mathjs === undefined) {
    const start = performance.now();
    mathjs = requireFromHere("mathjs") as MathjsSubset;
    loadListener?.(performance.now() - start);
  }
  return mathjs;
};

const functionNames: Readonly<Record<string, string>> = {
  sqrt: "sqrt",
  abs: "abs",
  sin: "sin",
  cos: "cos",
  tan: "tan",
  cot: "cot",
  sec: "sec",
  csc: "csc",
  arcsin: "asin",
  arccos: "acos",
  arctan: "atan",
  sinh: "sinh",
  cosh: "cosh",
  tanh: "tanh",
  ln: "log",
  log: "log",
  lg: "log10",
  exp: "exp",
  factorial: "factorial",
};

const identifier = (name: string): string =>
  `v_${name.replace(/[^A-Za-z0-9]/g, (character) => character.charCodeAt(0).toString(16))}`;

/** Serialise a scalar node to mathjs syntax, or `undefined` when it has no mathjs equivalent. */
export const toMathjs = (node: MathNode): string | undefined => {
  switch (node.kind) {
    case "number":
      return `(${node.value.numerator}/${node.value.denominator})`;
    case "symbol":
      if (node.name === "pi") return "pi";
      if (node.name === "e") return "e";
      return identifier(node.name);
    case "word":
      return [...node.text].map((letter) => (letter === "e" ? "e" : identifier(letter))).join("*");
    case "negate": {
      const operand = toMathjs(node.operand);
      return operand === undefined ? undefined : `(-${operand})`;
    }
    case "binary": {
      const left = toMathjs(node.left);
      const right = toMathjs(node.right);
      return left === undefined || right === undefined ? undefined : `(${left}${node.operator}${right})`;
    }
    case "apply": {
      const name = functionNames[node.name];
      const args = node.args.map(toMathjs);
      if (name === undefined || args.some((argument) => argument === undefined)) return undefined;
      return `${name}(${args.join(",")})`;
    }
    default:
      return undefined;
  }
};

/** True when mathjs simplifies `left - right` to 0; false when it cannot (not a proof of difference). */
/** A constant exponent above this makes mathjs compute huge exact powers (seconds): not attempted. */
const maximumExponent = 64;

const hasLargeExponent = (node: MathNode): boolean => {
  switch (node.kind) {
    case "negate":
      return hasLargeExponent(node.operand);
    case "binary": {
      if (node.operator === "^") {
        const exponent = evaluateExact(node.right);
        if (exponent === undefined && !Number.isFinite(evaluateFloat(node.right, new Map()))) {
          if (hasLargeExponent(node.right)) return true;
        } else if (exponent !== undefined) {
          const magnitude = exponent.numerator < 0n ? -exponent.numerator : exponent.numerator;
          if (magnitude > BigInt(maximumExponent) * exponent.denominator) return true;
        }
      }
      return hasLargeExponent(node.left) || hasLargeExponent(node.right);
    }
    case "apply":
      return node.name === "factorial" || node.args.some(hasLargeExponent);
    default:
      return false;
  }
};

export const symbolicallyEqual = (left: MathNode, right: MathNode): boolean => {
  if (hasLargeExponent(left) || hasLargeExponent(right)) return false;
  const a = toMathjs(left);
  const b = toMathjs(right);
  if (a === undefined || b === undefined) return false;
  try {
    return load().simplify(`(${a})-(${b})`).toString() === "0";
  } catch {
    return false;
  }
};
