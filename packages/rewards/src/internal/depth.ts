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

const depths = new WeakMap<MathNode, number>();

/** Height of the tree under `node` (a leaf is 1). Iterative, memoised per node. */
export const treeDepth = (root: MathNode): number => {
  const known = depths.get(root);
  if (known !== undefined) return known;
  const stack: Array<{ node: MathNode; expanded: boolean }> = [{ node: root, expanded: false }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as { node: MathNode; expanded: boolean };
    if (depths.has(top.node)) {
      stack.pop();
      continue;
    }
    const children = childrenOf(top.node);
    if (!top.expanded) {
      top.expanded = true;
      for (const child of children) if (!depths.has(child)) stack.push({ node: child, expanded: false });
      continue;
    }
    let deepest = 0;
    for (const child of children) deepest = Math.max(deepest, depths.get(child) ?? 0);
    depths.set(top.node, deepest + 1);
    stack.pop();
  }
  return depths.get(root) ?? 1;
};
