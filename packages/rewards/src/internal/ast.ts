import type { Rational } from "./rational.js";

/** Comparison operators of a relation chain, normalised from LaTeX (`\le`, `<=`, `\neq`, …). */
export type RelationOperator = "=" | "<" | ">" | "≤" | "≥" | "≠" | "≈" | "∈";

/** The parsed form of a mathematical answer. Produced by `parseLatex`, never by evaluating text. */
export type MathNode =
  | {
      readonly kind: "number";
      readonly value: Rational;
      /** Written with decimals (`0.333`): an approximation, compared with tolerance. */
      readonly decimal?: true;
    }
  | { readonly kind: "symbol"; readonly name: string }
  | { readonly kind: "word"; readonly text: string }
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "infinity" }
  | { readonly kind: "emptySet" }
  | { readonly kind: "negate"; readonly operand: MathNode }
  | {
      readonly kind: "binary";
      readonly operator: "+" | "-" | "*" | "/" | "^";
      readonly left: MathNode;
      readonly right: MathNode;
    }
  | { readonly kind: "plusMinus"; readonly left: MathNode | undefined; readonly right: MathNode }
  | { readonly kind: "apply"; readonly name: string; readonly args: ReadonlyArray<MathNode> }
  | {
      readonly kind: "relation";
      readonly operators: ReadonlyArray<RelationOperator>;
      readonly operands: ReadonlyArray<MathNode>;
    }
  | {
      readonly kind: "bracket";
      readonly open: "(" | "[";
      readonly close: ")" | "]";
      readonly items: ReadonlyArray<MathNode>;
    }
  | { readonly kind: "set"; readonly items: ReadonlyArray<MathNode> }
  | { readonly kind: "list"; readonly items: ReadonlyArray<MathNode> }
  | {
      readonly kind: "setOperation";
      readonly operator: "∪" | "∩" | "∖";
      readonly left: MathNode;
      readonly right: MathNode;
    }
  | { readonly kind: "matrix"; readonly rows: ReadonlyArray<ReadonlyArray<MathNode>> }
  | { readonly kind: "ratio"; readonly parts: ReadonlyArray<MathNode> };

/** A canonical text form of a node, used for structural equality and as a hash seed. */
export const printNode = (node: MathNode): string => {
  switch (node.kind) {
    case "number":
      return node.value.denominator === 1n
        ? node.value.numerator.toString()
        : `${node.value.numerator}/${node.value.denominator}`;
    case "symbol":
      return node.name;
    case "word":
      return node.text;
    case "text":
      return `"${node.text}"`;
    case "infinity":
      return "∞";
    case "emptySet":
      return "∅";
    case "negate":
      return `(-${printNode(node.operand)})`;
    case "binary":
      return `(${printNode(node.left)}${node.operator}${printNode(node.right)})`;
    case "plusMinus":
      return `(${node.left === undefined ? "" : printNode(node.left)}±${printNode(node.right)})`;
    case "apply":
      return `${node.name}(${node.args.map(printNode).join(",")})`;
    case "relation":
      return node.operands
        .map((operand, index) => `${index === 0 ? "" : node.operators[index - 1]}${printNode(operand)}`)
        .join("");
    case "bracket":
      return `${node.open}${node.items.map(printNode).join(",")}${node.close}`;
    case "set":
      return `{${node.items.map(printNode).join(",")}}`;
    case "list":
      return node.items.map(printNode).join(";");
    case "setOperation":
      return `(${printNode(node.left)}${node.operator}${printNode(node.right)})`;
    case "matrix":
      return `[${node.rows.map((row) => row.map(printNode).join("&")).join("\\\\")}]`;
    case "ratio":
      return node.parts.map(printNode).join(":");
  }
};
