import type { MathNode } from "./ast.js";

/**
 * Depth of parse trees, measured without recursion so that no input shape can overflow the stack.
 * Every walker over a tree (evaluation, printing, comparison) is recursive, so the parser refuses
 * trees deeper than {@link maximumTreeDepth} and the answer gets the typed verdict `too-deep`.
 */

/** Deepest parse tree accepted. `3!!!…!` with 2 000 `!` or a sum of 7 000 terms is deeper. */
export const maximumTreeDepth = 400;

/** The direct children of a node. */
export const childrenOf = (node: MathNode): ReadonlyArray<MathNode> => {
  switch (node.kind) {
    case "negate":
      return [node.operand];
    case "binary":
    case "setOperation":
      return [node.left, node.right];
    case "plusMinus":
      return node.left === undefined ? [node.right] : [node.left, node.right];
    case "apply":
      return node.args;
    case "relation":
      return node.operands;
    case "bracket":
    case "set":
    case "list":
      return node.items;
    case "matrix":
      return node.rows.flat();
    case "ratio":
      return node.parts;
    default:
      return [];
  }
};

/**
 * Whether the tree under `root` is deeper than `limit` levels (a leaf is 1). An explicit stack,
 * stopping at the first path that is too deep: no recursion, no allocation per leaf.
 */
export const deeperThan = (root: MathNode, limit: number): boolean => {
  const nodes: MathNode[] = [root];
  const levels: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop() as MathNode;
    const level = levels.pop() as number;
    if (level > limit) return true;
    switch (node.kind) {
      case "number":
      case "symbol":
      case "word":
      case "text":
      case "infinity":
      case "emptySet":
        continue;
      default:
        for (const child of childrenOf(node)) {
          nodes.push(child);
          levels.push(level + 1);
        }
    }
  }
  return false;
};
