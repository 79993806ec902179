import { type MathNode, printNode, type RelationOperator } from "./ast.js";
import { collectSymbols, containsDecimal, evaluateExact, evaluateFloat, isScalar } from "./evaluate.js";
import { magnitudeOf, magnitudesClose } from "./magnitude.js";
import * as Q from "./rational.js";
import { symbolicallyEqual } from "./symbolic.js";

export interface ComparisonSettings {
  /** Relative tolerance for numeric comparison of constants. */
  readonly relativeTolerance: number;
}

/** Most items a list or set may have before comparison gives up (bounds the quadratic matching). */
const maximumItems = 256;
/** Random points used to test identities of expressions with free variables. */
const samplePoints = 8;
/** Defined points needed before an identity is accepted. */
const requiredDefinedPoints = 3;
/** Tolerance for identity testing at random points (float round-off only). */
const identityTolerance = 1e-8;

const close = (left: number, right: number, tolerance: number): boolean => {
  if (left === right) return true;
  if (!Number.isFinite(left) || !Number.isFinite(right)) return false;
  const scale = Math.max(Math.abs(left), Math.abs(right));
  return Math.abs(left - right) <= tolerance * scale || Math.abs(left - right) <= 1e-12;
};

/** Deterministic sample values for the free symbols, spread over positive reals to keep √ and log defined. */
const sampleScope = (symbols: ReadonlyArray<string>, point: number): Map<string, number> => {
  const scope = new Map<string, number>();
  symbols.forEach((symbol, index) => {
    const seed = Math.sin((point + 1) * 12.9898 + (index + 1) * 78.233) * 43758.5453;
    scope.set(symbol, 0.35 + 2.5 * (seed - Math.floor(seed)));
  });
  return scope;
};

/** Expand every `±` into its two alternatives (capped, so `±` chains cannot explode). */
const expandPlusMinus = (node: MathNode): MathNode[] => {
  switch (node.kind) {
    case "plusMinus": {
      const rights = expandPlusMinus(node.right);
      if (node.left === undefined) {
        return rights.flatMap((right) => [right, { kind: "negate", operand: right } as MathNode]);
      }
      return expandPlusMinus(node.left).flatMap((left) =>
        rights.flatMap((right) => [
          { kind: "binary", operator: "+", left, right } as MathNode,
          { kind: "binary", operator: "-", left, right } as MathNode,
        ]),
      );
    }
    case "negate":
      return expandPlusMinus(node.operand).map((operand) => ({ kind: "negate", operand }) as MathNode);
    case "binary": {
      const lefts = expandPlusMinus(node.left);
      const rights = expandPlusMinus(node.right);
      if (lefts.length === 1 && rights.length === 1) return [node];
      return lefts
        .flatMap((left) => rights.map((right) => ({ ...node, left, right }) as MathNode))
        .slice(0, 16);
    }
    case "apply": {
      if (node.args.length !== 1) return [node];
      const args = expandPlusMinus(node.args[0] as MathNode);
      return args.length === 1 ? [node] : args.map((argument) => ({ ...node, args: [argument] }) as MathNode);
    }
    case "relation": {
      const last = node.operands[node.operands.length - 1] as MathNode;
      const alternatives = expandPlusMinus(last);
      return alternatives.length === 1
        ? [node]
        : alternatives.map((alternative) => ({
            ...node,
            operands: [...node.operands.slice(0, -1), alternative],
          }));
    }
    default:
      return [node];
  }
};

const listItems = (node: MathNode): MathNode[] =>
  node.kind === "list" || node.kind === "set" ? node.items.flatMap(expandPlusMinus) : expandPlusMinus(node);

/** Whether `predicted` states the same answer as `gold`. Not symmetric: the gold answer leads. */
export const equivalent = (
  goldAnswer: MathNode,
  predictedAnswer: MathNode,
  settings: ComparisonSettings,
): boolean => {
  if (printNode(goldAnswer) === printNode(predictedAnswer)) return true;
  const gold = resolveSetOperations(goldAnswer, settings);
  const predicted = resolveSetOperations(predictedAnswer, settings);
  const goldItems = listItems(gold);
  const predictedItems = listItems(predicted);
  if (goldItems.length > 1 || predictedItems.length > 1)
    return setsEquivalent(goldItems, predictedItems, settings);
  return itemsEquivalent(goldItems[0] as MathNode, predictedItems[0] as MathNode, settings);
};

const finiteItems = (node: MathNode): ReadonlyArray<MathNode> | undefined =>
  node.kind === "set" ? node.items : node.kind === "emptySet" ? [] : undefined;

/**
 * Union, intersection and difference of finite sets, carried out (`\{1,3\} \cup \{2,4\}` is
 * `\{1,2,3,4\}`, as in Math-Verify's README); operations on intervals are left for the interval
 * comparison. Lists and sets are resolved item by item.
 */
const resolveSetOperations = (node: MathNode, settings: ComparisonSettings): MathNode => {
  if (node.kind === "list" || node.kind === "set") {
    if (!node.items.some((item) => item.kind === "setOperation" || item.kind === "set")) return node;
    return { ...node, items: node.items.map((item) => resolveSetOperations(item, settings)) };
  }
  if (node.kind !== "setOperation") return node;
  const left = resolveSetOperations(node.left, settings);
  const right = resolveSetOperations(node.right, settings);
  const leftItems = finiteItems(left);
  const rightItems = finiteItems(right);
  if (
    leftItems === undefined ||
    rightItems === undefined ||
    leftItems.length + rightItems.length > maximumItems
  )
    return { ...node, left, right };
  const isMember = (item: MathNode, items: ReadonlyArray<MathNode>): boolean =>
    items.some((other) => itemsEquivalent(other, item, settings));
  const items =
    node.operator === "∪"
      ? [...leftItems, ...rightItems]
      : node.operator === "∩"
        ? leftItems.filter((item) => isMember(item, rightItems))
        : leftItems.filter((item) => !isMember(item, rightItems));
  return items.length === 0 ? { kind: "emptySet" } : { kind: "set", items };
};

/** Order-insensitive comparison with duplicates ignored: every item must be matched on both sides. */
const setsEquivalent = (
  gold: ReadonlyArray<MathNode>,
  predicted: ReadonlyArray<MathNode>,
  settings: ComparisonSettings,
): boolean => {
  if (gold.length > maximumItems || predicted.length > maximumItems) return false;
  const matched = new Set<number>();
  for (const goldItem of gold) {
    let found = false;
    predicted.forEach((predictedItem, index) => {
      if (itemsEquivalent(goldItem, predictedItem, settings)) {
        matched.add(index);
        found = true;
      }
    });
    if (!found) return false;
  }
  return matched.size === predicted.length;
};

const itemsEquivalent = (gold: MathNode, predicted: MathNode, settings: ComparisonSettings): boolean => {
  if (printNode(gold) === printNode(predicted)) return true;
  if (gold.kind === "relation" || predicted.kind === "relation")
    return relationsEquivalent(gold, predicted, settings);
  if (gold.kind === "list" || gold.kind === "set" || predicted.kind === "list" || predicted.kind === "set") {
    return setsEquivalent(listItems(gold), listItems(predicted), settings);
  }
  if (isIntervalLike(gold) && isIntervalLike(predicted))
    return intervalsEquivalent(gold, predicted, settings);
  if (gold.kind === "bracket" || predicted.kind === "bracket")
    return bracketsEquivalent(gold, predicted, settings);
  if (gold.kind === "ratio" || predicted.kind === "ratio") return ratiosEquivalent(gold, predicted, settings);
  if (gold.kind === "text" || predicted.kind === "text") return textsEquivalent(gold, predicted);
  const goldMatrix = matrixValue(gold);
  const predictedMatrix = matrixValue(predicted);
  if (goldMatrix !== undefined || predictedMatrix !== undefined) {
    return (
      goldMatrix !== undefined &&
      predictedMatrix !== undefined &&
      matricesEquivalent(goldMatrix, predictedMatrix, settings)
    );
  }
  if (isScalar(gold) && isScalar(predicted)) return scalarsEquivalent(gold, predicted, settings);
  return false;
};

// ── scalars ─────────────────────────────────────────────────────────────────────────────────────

/** Exact rational comparison, else numeric with tolerance, else identity testing, else mathjs. */
export const scalarsEquivalent = (
  gold: MathNode,
  predicted: MathNode,
  settings: ComparisonSettings,
): boolean => {
  const exactGold = evaluateExact(gold);
  const exactPredicted = exactGold === undefined ? undefined : evaluateExact(predicted);
  if (exactGold !== undefined && exactPredicted !== undefined) {
    if (Q.equals(exactGold, exactPredicted)) return true;
    // A decimal answer is an approximation: 0.3333333 may stand for 1/3 within the tolerance.
    if (!containsDecimal(gold) && !containsDecimal(predicted)) return false;
    return (
      safelyExact(() => rationalsClose(exactGold, exactPredicted, settings.relativeTolerance)) &&
      withinWrittenPrecision(
        gold,
        predicted,
        Math.abs(Q.toNumber(Q.add(exactGold, Q.negate(exactPredicted)))),
        Math.max(Math.abs(Q.toNumber(exactGold)), Math.abs(Q.toNumber(exactPredicted))),
      )
    );
  }
  const symbols = [...collectSymbols(predicted, collectSymbols(gold, new Set()))].sort();
  if (symbols.length === 0) return constantsClose(gold, predicted, settings);
  const verdict = identityAtRandomPoints(gold, predicted, symbols);
  return verdict ?? symbolicallyEqual(gold, predicted);
};

/** An exact comparison whose fractions grew too large to reduce decides "not equal". */
const safelyExact = (compare: () => boolean): boolean => {
  try {
    return compare();
  } catch (error) {
    if (error instanceof Q.ExactArithmeticTooLargeError) return false;
    throw error;
  }
};

/** |a − b| ≤ tolerance · max(|a|, |b|) (or ≤ 1e-12), decided exactly, so huge values never overflow. */
const rationalsClose = (left: Q.Rational, right: Q.Rational, tolerance: number): boolean => {
  const absolute = (value: Q.Rational): Q.Rational => (value.numerator < 0n ? Q.negate(value) : value);
  const notAbove = (value: Q.Rational, bound: Q.Rational): boolean =>
    Q.add(bound, Q.negate(value)).numerator >= 0n;
  const gap = absolute(Q.add(left, Q.negate(right)));
  const larger = notAbove(absolute(left), absolute(right)) ? absolute(right) : absolute(left);
  const relative = Q.parseDecimal(tolerance.toExponential(15).replace("+", ""));
  const absoluteFloor = Q.rational(1n, 10n ** 12n);
  return (
    notAbove(gap, absoluteFloor) || (relative !== undefined && notAbove(gap, Q.multiply(relative, larger)))
  );
};

/** Decimal places of a bare decimal answer (`12345.67` → 2, `-0.3333333` → 7), else `undefined`. */
const writtenPlaces = (node: MathNode): number | undefined => {
  const literal = node.kind === "negate" ? node.operand : node;
  if (literal.kind !== "number" || literal.decimal !== true) return undefined;
  let denominator = literal.value.denominator;
  let places = 0;
  while (denominator % 10n === 0n || denominator % 2n === 0n || denominator % 5n === 0n) {
    denominator =
      denominator % 10n === 0n
        ? denominator / 10n
        : denominator % 2n === 0n
          ? denominator / 2n
          : denominator / 5n;
    places += 1;
  }
  return places;
};

/**
 * A bare decimal answer stands for every value that rounds to it, and no other: `0.3333333` for 1/3,
 * but `12345.67` is not `12345.68` although they differ by less than 1e-6 relative (Math-Verify
 * rounds to decimal places, too). The finer of two bare decimals sets the precision.
 */
const withinWrittenPrecision = (gold: MathNode, predicted: MathNode, gap: number, scale = 0): boolean => {
  const places = [writtenPlaces(gold), writtenPlaces(predicted)].filter(
    (value): value is number => value !== undefined,
  );
  if (places.length === 0) return true;
  const halfUnit = 0.5 * 10 ** -Math.max(...places);
  return gap <= halfUnit + 4 * Number.EPSILON * scale;
};

/** Outside ±1e-290 a double is trusted; closer to 0 it may have underflowed. */
const isTiny = (value: number): boolean => Math.abs(value) < 1e-290;

/**
 * Two constants without free variables. Doubles decide when both are in range; when either
 * overflows (`e^{1000}`, `\\pi^{1000}`) or both underflow, signs and logarithms decide, so "both
 * infinite" or "both zero" is never a match by itself.
 */
const constantsClose = (gold: MathNode, predicted: MathNode, settings: ComparisonSettings): boolean => {
  const left = evaluateFloat(gold, new Map());
  const right = evaluateFloat(predicted, new Map());
  const inRange = (value: number): boolean => Number.isFinite(value) && !isTiny(value);
  if (Number.isNaN(left) || Number.isNaN(right)) return false;
  // Both doubles trusted, or one exactly (or nearly) 0 against a trusted one: compare the doubles.
  if (
    (inRange(left) || isTiny(left)) &&
    (inRange(right) || isTiny(right)) &&
    !(isTiny(left) && isTiny(right))
  ) {
    return (
      close(left, right, settings.relativeTolerance) &&
      withinWrittenPrecision(
        gold,
        predicted,
        Math.abs(left - right),
        Math.max(Math.abs(left), Math.abs(right)),
      )
    );
  }
  const goldMagnitude = magnitudeOf(gold);
  const predictedMagnitude = magnitudeOf(predicted);
  if (goldMagnitude === undefined || predictedMagnitude === undefined) return false;
  const approximate = containsDecimal(gold) || containsDecimal(predicted);
  return magnitudesClose(goldMagnitude, predictedMagnitude, approximate ? settings.relativeTolerance : 0);
};

/** `true`/`false` when enough sample points are defined on both sides, `undefined` when undecided. */
const identityAtRandomPoints = (
  gold: MathNode,
  predicted: MathNode,
  symbols: ReadonlyArray<string>,
): boolean | undefined => {
  let defined = 0;
  for (let point = 0; point < samplePoints; point += 1) {
    const scope = sampleScope(symbols, point);
    const left = evaluateFloat(gold, scope);
    const right = evaluateFloat(predicted, scope);
    if (!Number.isFinite(left) || !Number.isFinite(right)) continue;
    if (!close(left, right, identityTolerance)) return false;
    defined += 1;
  }
  return defined >= requiredDefinedPoints ? true : undefined;
};

/**
 * Whether `left = c · right` for one constant `c` at every sample point (with `c > 0` when
 * `positive`): equivalence of equations `l = 0` and of inequalities `l < 0`.
 */
const proportional = (left: MathNode, right: MathNode, positive: boolean): boolean => {
  const symbols = [...collectSymbols(right, collectSymbols(left, new Set()))].sort();
  let ratio: number | undefined;
  let defined = 0;
  for (let point = 0; point < samplePoints; point += 1) {
    const scope = sampleScope(symbols, point);
    const a = evaluateFloat(left, scope);
    const b = evaluateFloat(right, scope);
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
    defined += 1;
    if (Math.abs(b) < 1e-12) {
      if (Math.abs(a) > 1e-9) return false;
      continue;
    }
    const current = a / b;
    if (ratio === undefined) {
      if (Math.abs(current) < 1e-12 || (positive && current < 0)) return false;
      ratio = current;
    } else if (!close(current, ratio, identityTolerance)) return false;
  }
  return defined >= requiredDefinedPoints || (symbols.length === 0 && defined > 0);
};

const difference = (left: MathNode, right: MathNode): MathNode => ({
  kind: "binary",
  operator: "-",
  left,
  right,
});

// ── relations ───────────────────────────────────────────────────────────────────────────────────

type Relation = Extract<MathNode, { kind: "relation" }>;

/** `x`, `x_1`, `f(x)`, `AB`, `(p, q)`, `V_1 : V_2` — the left side of an assignment `x = value`. */
const isNameLike = (node: MathNode): boolean => {
  switch (node.kind) {
    case "symbol":
    case "word":
      return true;
    case "apply":
      return node.name.startsWith("user:");
    case "bracket":
    case "ratio":
      return (node.kind === "bracket" ? node.items : node.parts).every(isNameLike);
    default:
      return false;
  }
};

/** No number literal anywhere: `\frac{NO}{BO}`, `|AB|`, `a + b` (Math-Verify's "only symbols"). */
const isSymbolsOnly = (node: MathNode): boolean => {
  switch (node.kind) {
    case "symbol":
    case "word":
      return true;
    case "binary":
      // `a - b` carries a factor −1 (Math-Verify reads it as a + (−1)·b), so it is not symbols only.
      return node.operator !== "-" && isSymbolsOnly(node.left) && isSymbolsOnly(node.right);
    case "apply":
      return node.args.length > 0 && node.args.every(isSymbolsOnly);
    default:
      return false;
  }
};

/** A gold `lhs = value` whose left side names the quantity asked for: the value is the answer. */
const isAssignment = (relation: Relation): boolean =>
  relation.operators.every((operator) => operator === "=" || operator === "∈" || operator === "≈") &&
  (isNameLike(relation.operands[0] as MathNode) || isSymbolsOnly(relation.operands[0] as MathNode));

/**
 * The value a predicted equation commits to when the gold answer is not a relation (as in
 * Math-Verify, the last right side): `x = 3` → 3, `x = 5+5+1 = 11` → 11, `\frac{1}{2} = \frac{10}{9}`
 * → 10/9, `x = 1/3 ≈ 0.33` → 1/3 (the value before the approximation), `x ≈ 11` → 11.
 */
const predictedValue = (relation: Relation): MathNode | undefined => {
  const { operators, operands } = ends(relation);
  if (!operators.every((operator) => operator === "=" || operator === "∈")) return undefined;
  return operands[operands.length - 1];
};

/** Reduce a chain `a = b = c` to its two ends `a = c` (and drop a trailing `≈ …`; `x ≈ 11` is `x = 11`). */
const ends = (relation: Relation): Relation => {
  if (relation.operators[0] === "≈") {
    return ends({
      kind: "relation",
      operators: relation.operators.map((operator) => (operator === "≈" ? "=" : operator)),
      operands: relation.operands,
    });
  }
  const approximate = relation.operators.indexOf("≈");
  if (approximate > 0) {
    return ends({
      kind: "relation",
      operators: relation.operators.slice(0, approximate),
      operands: relation.operands.slice(0, approximate + 1),
    });
  }
  if (relation.operands.length <= 2 || !relation.operators.every((operator) => operator === "="))
    return relation;
  return {
    kind: "relation",
    operators: ["="],
    operands: [relation.operands[0] as MathNode, relation.operands[relation.operands.length - 1] as MathNode],
  };
};

const relationsEquivalent = (gold: MathNode, predicted: MathNode, settings: ComparisonSettings): boolean => {
  if (gold.kind === "relation" && predicted.kind === "relation") {
    return twoRelationsEquivalent(ends(gold), ends(predicted), settings);
  }
  if (gold.kind === "relation") {
    const intervals = relationToIntervals(gold);
    if (intervals !== undefined && isIntervalLike(predicted))
      return intervalsEquivalent(intervals, predicted, settings);
    if (!isAssignment(gold)) return false;
    return itemsEquivalent(gold.operands[gold.operands.length - 1] as MathNode, predicted, settings);
  }
  const relation = predicted as Relation;
  const intervals = relationToIntervals(relation);
  if (intervals !== undefined && isIntervalLike(gold)) return intervalsEquivalent(gold, intervals, settings);
  const value = predictedValue(relation);
  return value !== undefined && itemsEquivalent(gold, value, settings);
};

const strictness: Readonly<Partial<Record<RelationOperator, "<" | "≤">>> = {
  "<": "<",
  ">": "<",
  "≤": "≤",
  "≥": "≤",
};

/** `l op r` as `d op' 0` with `op'` in `<`, `≤`. */
const towardsZero = (left: MathNode, operator: RelationOperator, right: MathNode): MathNode =>
  operator === "<" || operator === "≤" ? difference(left, right) : difference(right, left);

const twoRelationsEquivalent = (
  gold: Relation,
  predicted: Relation,
  settings: ComparisonSettings,
): boolean => {
  if (gold.operands.length === 2 && predicted.operands.length === 2) {
    const [goldOperator] = gold.operators as [RelationOperator];
    const [predictedOperator] = predicted.operators as [RelationOperator];
    const [goldLeft, goldRight] = gold.operands as [MathNode, MathNode];
    const [predictedLeft, predictedRight] = predicted.operands as [MathNode, MathNode];
    if (goldOperator === "∈" && predictedOperator === "∈")
      return itemsEquivalent(goldRight, predictedRight, settings);
    if (goldOperator === "=" && predictedOperator === "=") {
      if (isNameLike(goldLeft) && printNode(goldLeft) === printNode(predictedLeft)) {
        return itemsEquivalent(goldRight, predictedRight, settings);
      }
      if (
        !(isScalar(goldLeft) && isScalar(goldRight) && isScalar(predictedLeft) && isScalar(predictedRight))
      ) {
        return false;
      }
      return proportional(difference(goldLeft, goldRight), difference(predictedLeft, predictedRight), false);
    }
    if (goldOperator === "≠" && predictedOperator === "≠") {
      return proportional(difference(goldLeft, goldRight), difference(predictedLeft, predictedRight), false);
    }
    const goldStrictness = strictness[goldOperator];
    const predictedStrictness = strictness[predictedOperator];
    if (goldStrictness !== undefined && goldStrictness === predictedStrictness) {
      return proportional(
        towardsZero(goldLeft, goldOperator, goldRight),
        towardsZero(predictedLeft, predictedOperator, predictedRight),
        true,
      );
    }
  }
  const goldIntervals = relationToIntervals(gold);
  const predictedIntervals = relationToIntervals(predicted);
  if (goldIntervals !== undefined && predictedIntervals !== undefined) {
    return intervalsEquivalent(goldIntervals, predictedIntervals, settings);
  }
  if (gold.operators.length !== predicted.operators.length) return false;
  return (
    gold.operators.every((operator, index) => operator === predicted.operators[index]) &&
    gold.operands.every((operand, index) =>
      itemsEquivalent(operand, predicted.operands[index] as MathNode, settings),
    )
  );
};

// ── intervals ───────────────────────────────────────────────────────────────────────────────────

const negativeInfinity: MathNode = { kind: "negate", operand: { kind: "infinity" } };
const positiveInfinity: MathNode = { kind: "infinity" };

const interval = (open: "(" | "[", low: MathNode, high: MathNode, close: ")" | "]"): MathNode => ({
  kind: "bracket",
  open,
  close,
  items: [low, high],
});

const isConstant = (node: MathNode): boolean => isScalar(node) && collectSymbols(node, new Set()).size === 0;

/** `x > 5` → (5, ∞); `-2 ≤ x ≤ 7` → [-2, 7]; `1 ≤ |z| ≤ 3/2` → [-3/2, -1] ∪ [1, 3/2]; `x ∈ S` → S. */
const relationToIntervals = (relation: Relation): MathNode | undefined => {
  const { operators, operands } = relation;
  if (operators.length === 1 && operators[0] === "∈") return operands[1];
  if (operators.length === 1) {
    const [left, right] = operands as [MathNode, MathNode];
    const operator = operators[0] as RelationOperator;
    if (isConstant(right) && !isConstant(left)) return oneSided(left, operator, right);
    if (isConstant(left) && !isConstant(right)) return oneSided(right, flip(operator), left);
    return undefined;
  }
  if (operators.length === 2) {
    const [low, variable, high] = operands as [MathNode, MathNode, MathNode];
    const [first, second] = operators as [RelationOperator, RelationOperator];
    if (!isConstant(low) || !isConstant(high) || isConstant(variable)) return undefined;
    const ascending = (first === "<" || first === "≤") && (second === "<" || second === "≤");
    const descending = (first === ">" || first === "≥") && (second === ">" || second === "≥");
    if (!ascending && !descending) return undefined;
    const [lower, upper, lowOperator, highOperator] = ascending
      ? [low, high, first, second]
      : [high, low, second, first];
    const open = lowOperator === "<" || lowOperator === ">" ? "(" : "[";
    const closing = highOperator === "<" || highOperator === ">" ? ")" : "]";
    if (variable.kind === "apply" && variable.name === "abs") {
      return {
        kind: "setOperation",
        operator: "∪",
        left: interval(
          open === "(" ? "(" : "[",
          { kind: "negate", operand: upper },
          { kind: "negate", operand: lower },
          closing === ")" ? ")" : "]",
        ),
        right: interval(open, lower, upper, closing),
      };
    }
    return interval(open, lower, upper, closing);
  }
  return undefined;
};

const flipped: Readonly<Partial<Record<RelationOperator, RelationOperator>>> = {
  "<": ">",
  ">": "<",
  "≤": "≥",
  "≥": "≤",
};

const flip = (operator: RelationOperator): RelationOperator => flipped[operator] ?? operator;

const oneSided = (variable: MathNode, operator: RelationOperator, bound: MathNode): MathNode | undefined => {
  if (variable.kind === "apply" && variable.name === "abs") return undefined;
  switch (operator) {
    case "<":
      return interval("(", negativeInfinity, bound, ")");
    case "≤":
      return interval("(", negativeInfinity, bound, "]");
    case ">":
      return interval("(", bound, positiveInfinity, ")");
    case "≥":
      return interval("[", bound, positiveInfinity, ")");
    case "≠":
      return {
        kind: "setOperation",
        operator: "∪",
        left: interval("(", negativeInfinity, bound, ")"),
        right: interval("(", bound, positiveInfinity, ")"),
      };
    default:
      return undefined;
  }
};

const isIntervalLike = (node: MathNode): boolean =>
  (node.kind === "bracket" && node.items.length === 2) ||
  (node.kind === "setOperation" && node.operator === "∪") ||
  node.kind === "emptySet";

const unionParts = (node: MathNode): MathNode[] =>
  node.kind === "setOperation" && node.operator === "∪"
    ? [...unionParts(node.left), ...unionParts(node.right)]
    : [node];

const intervalsEquivalent = (gold: MathNode, predicted: MathNode, settings: ComparisonSettings): boolean => {
  const goldParts = unionParts(gold);
  const predictedParts = unionParts(predicted);
  if (goldParts.length === 1 && predictedParts.length === 1) {
    return bracketsEquivalent(goldParts[0] as MathNode, predictedParts[0] as MathNode, settings);
  }
  return setsEquivalent(goldParts, predictedParts, settings);
};

// ── tuples, ratios, text, matrices ──────────────────────────────────────────────────────────────

const bracketsEquivalent = (gold: MathNode, predicted: MathNode, settings: ComparisonSettings): boolean => {
  if (gold.kind !== "bracket" || predicted.kind !== "bracket") return false;
  if (gold.open !== predicted.open || gold.close !== predicted.close) return false;
  if (gold.items.length !== predicted.items.length) return false;
  return gold.items.every((item, index) =>
    itemsEquivalent(item, predicted.items[index] as MathNode, settings),
  );
};

const ratiosEquivalent = (gold: MathNode, predicted: MathNode, settings: ComparisonSettings): boolean => {
  if (gold.kind !== "ratio" || predicted.kind !== "ratio" || gold.parts.length !== predicted.parts.length)
    return false;
  if (gold.parts.length === 2) {
    const [a, b] = gold.parts as [MathNode, MathNode];
    const [c, d] = predicted.parts as [MathNode, MathNode];
    const denominators = [evaluateFloat(b, new Map()), evaluateFloat(d, new Map())];
    if (denominators.every((value) => Number.isFinite(value) && value !== 0)) {
      return scalarsEquivalent(
        { kind: "binary", operator: "/", left: a, right: b },
        { kind: "binary", operator: "/", left: c, right: d },
        settings,
      );
    }
  }
  return gold.parts.every((part, index) =>
    itemsEquivalent(part, predicted.parts[index] as MathNode, settings),
  );
};

const textOf = (node: MathNode): string | undefined => {
  switch (node.kind) {
    case "text":
    case "word":
      return node.text;
    case "symbol":
      return node.name;
    default:
      return undefined;
  }
};

const textsEquivalent = (gold: MathNode, predicted: MathNode): boolean => {
  const left = textOf(gold);
  const right = textOf(predicted);
  return left !== undefined && right !== undefined && left.toLowerCase() === right.toLowerCase();
};

type Matrix = ReadonlyArray<ReadonlyArray<MathNode>>;

const sum = (left: MathNode, right: MathNode): MathNode => ({ kind: "binary", operator: "+", left, right });
const product = (left: MathNode, right: MathNode): MathNode => ({
  kind: "binary",
  operator: "*",
  left,
  right,
});

/** Value of a matrix expression (`A + B`, `A B`, `2A`, `-A`), entries kept symbolic. */
const matrixValue = (node: MathNode): Matrix | undefined => {
  if (node.kind === "matrix") return node.rows;
  if (node.kind === "negate") {
    const operand = matrixValue(node.operand);
    return operand?.map((row) => row.map((entry) => ({ kind: "negate", operand: entry }) as MathNode));
  }
  if (node.kind !== "binary") return undefined;
  const left = matrixValue(node.left);
  const right = matrixValue(node.right);
  if (left === undefined && right === undefined) return undefined;
  if (node.operator === "+" || node.operator === "-") {
    if (left === undefined || right === undefined || !sameShape(left, right)) return undefined;
    return left.map((row, i) =>
      row.map(
        (entry, j) =>
          ({ kind: "binary", operator: node.operator, left: entry, right: right[i]?.[j] }) as MathNode,
      ),
    );
  }
  if (node.operator !== "*") return undefined;
  if (left !== undefined && right !== undefined) return matrixProduct(left, right);
  const scalar = left === undefined ? node.left : node.right;
  const matrix = (left ?? right) as Matrix;
  return isScalar(scalar) ? matrix.map((row) => row.map((entry) => product(scalar, entry))) : undefined;
};

const sameShape = (left: Matrix, right: Matrix): boolean =>
  left.length === right.length && left.every((row, index) => row.length === right[index]?.length);

const matrixProduct = (left: Matrix, right: Matrix): Matrix | undefined => {
  const inner = right.length;
  if (left.some((row) => row.length !== inner) || inner === 0) return undefined;
  const columns = (right[0] as ReadonlyArray<MathNode>).length;
  return left.map((row) =>
    Array.from({ length: columns }, (_, column) =>
      row.map((entry, k) => product(entry, right[k]?.[column] as MathNode)).reduce(sum),
    ),
  );
};

const matricesEquivalent = (gold: Matrix, predicted: Matrix, settings: ComparisonSettings): boolean =>
  sameShape(gold, predicted) &&
  gold.every((row, i) =>
    row.every((entry, j) => itemsEquivalent(entry, predicted[i]?.[j] as MathNode, settings)),
  );
