import type { MathNode, RelationOperator } from "./ast.js";
import { deeperThan, maximumTreeDepth } from "./depth.js";
import { parseDecimal, rational } from "./rational.js";
import { ExpressionTooDeepError, MathSyntaxError, type Token, tokenize } from "./tokenize.js";

/** Deepest nesting the parser accepts; deeper input is rejected instead of overflowing the stack. */
const maximumDepth = 200;

const functionNames = new Set([
  "sin",
  "cos",
  "tan",
  "cot",
  "sec",
  "csc",
  "arcsin",
  "arccos",
  "arctan",
  "sinh",
  "cosh",
  "tanh",
  "log",
  "ln",
  "lg",
  "exp",
  "sqrt",
]);

/** Letters that denote a function when followed directly by `(`: `f(x)`, otherwise `a(b)` is a product. */
const functionLetters = new Set(["f", "g", "h", "F", "G", "H"]);

const separatorWords = new Set(["and", "or"]);

/** Words dropped after a quantity: units, currencies, percent, degrees. */
export const unitWords = new Set(
  (
    "cm mm km m meter meters metre metres centimeter centimeters kilometer kilometers millimeter millimeters " +
    "inch inches foot feet ft yard yards yd mile miles mph kph kg g gram grams kilogram kilograms lb lbs pound " +
    "pounds ounce ounces oz s sec secs second seconds min mins minute minutes hour hours hr hrs h day days week " +
    "weeks month months year years degree degrees deg dollar dollars cent cents percent percentage pct unit units square " +
    "sq cubic liter liters litre litres ml mL L cc km/h sqft ton tons"
  ).split(" "),
);

/** Single-letter units are ambiguous with variables: they are units only inside `\text{}`. */
const isUnitText = (text: string): boolean => {
  const words = text
    .trim()
    .split(/\s+/)
    .filter((word) => word !== "");
  return words.length > 0 && words.every((word) => unitWords.has(word) || unitWords.has(word.toLowerCase()));
};

const isUnitWord = (text: string): boolean => text.length > 1 && unitWords.has(text);

const relationOperators = new Set<string>(["=", "<", ">", "≤", "≥", "≠", "≈", "∈"]);

const matrixEnvironments = new Set([
  "pmatrix",
  "bmatrix",
  "Bmatrix",
  "matrix",
  "vmatrix",
  "smallmatrix",
  "array",
]);

class Parser {
  private position = 0;
  private depth = 0;
  private absoluteDepth = 0;

  constructor(private readonly tokens: Token[]) {}

  parseAnswer(): MathNode {
    const items = this.parseSequence();
    if (this.position < this.tokens.length) {
      throw new MathSyntaxError(`unexpected ${describe(this.tokens[this.position] as Token)}`);
    }
    if (items.length === 0) throw new MathSyntaxError("empty answer");
    return this.checkDepth(items.length === 1 ? (items[0] as MathNode) : { kind: "list", items });
  }

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.position + offset];
  }

  private isOperator(text: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token?.type === "operator" && token.text === text;
  }

  private expectOperator(text: string): void {
    if (!this.isOperator(text)) {
      const token = this.peek();
      throw new MathSyntaxError(
        `expected ${text} but found ${token === undefined ? "the end" : describe(token)}`,
      );
    }
    this.position += 1;
  }

  private isSeparator(): boolean {
    const token = this.peek();
    if (token === undefined) return false;
    if (token.type === "operator") return token.text === "," || token.text === ";";
    if (token.type === "word") return separatorWords.has(token.text.toLowerCase());
    if (token.type === "text")
      return separatorWords.has(token.text.trim().toLowerCase()) || token.text.trim() === ",";
    return false;
  }

  /** Items separated by `,` `;` `and` `or`. With both `;` and `,`, `;` separates tuples of `,` items. */
  private parseSequence(): MathNode[] {
    const groups: MathNode[][] = [[]];
    let sawSemicolon = false;
    let sawComma = false;
    while (this.position < this.tokens.length) {
      if (this.isSeparator()) {
        if (this.isOperator(";")) {
          sawSemicolon = true;
          groups.push([]);
        } else sawComma = true;
        this.position += 1;
        continue;
      }
      if (this.atSequenceEnd()) break;
      (groups[groups.length - 1] as MathNode[]).push(this.parseExpression(0));
    }
    const nonEmpty = groups.filter((group) => group.length > 0);
    if (sawSemicolon && sawComma) {
      return nonEmpty.map((group) =>
        group.length === 1
          ? (group[0] as MathNode)
          : { kind: "bracket", open: "(", close: ")", items: group },
      );
    }
    return nonEmpty.flat();
  }

  private atSequenceEnd(): boolean {
    const token = this.peek();
    if (token === undefined) return true;
    if (token.type === "end") return true;
    if (token.type !== "operator") return false;
    return (
      [")", "]", "}", "\\}", "&", "\\\\"].includes(token.text) ||
      (token.text === "|" && this.absoluteDepth > 0)
    );
  }

  private enter(): void {
    this.depth += 1;
    if (this.depth > maximumDepth) throw new ExpressionTooDeepError("expression nested too deeply");
  }

  /**
   * Refuse a tree deeper than the walkers may recurse (`3!!!…!`, `1+1+…+1`): checked once on the
   * whole answer. (Bracket nesting is bounded while parsing by {@link maximumDepth}; a stack overflow
   * inside the parser itself is reported as `too-deep` by the caller.)
   */
  private checkDepth(node: MathNode): MathNode {
    if (deeperThan(node, maximumTreeDepth))
      throw new ExpressionTooDeepError(`expression deeper than ${maximumTreeDepth} levels`);
    return node;
  }

  private parseExpression(minimumPower: number): MathNode {
    this.enter();
    let left = this.parsePrefix();
    for (;;) {
      const token = this.peek();
      if (token === undefined) break;
      if (token.type === "operator") {
        const text = token.text;
        if (relationOperators.has(text) && minimumPower < 10) {
          left = this.parseRelation(left);
          continue;
        }
        if (text === ":" && minimumPower < 15) {
          const parts = [left];
          while (this.isOperator(":")) {
            this.position += 1;
            parts.push(this.parseExpression(16));
          }
          left = { kind: "ratio", parts };
          continue;
        }
        if ((text === "∪" || text === "∩" || text === "∖") && minimumPower < 20) {
          this.position += 1;
          left = { kind: "setOperation", operator: text, left, right: this.parseExpression(21) };
          continue;
        }
        if ((text === "+" || text === "-") && minimumPower < 30) {
          this.position += 1;
          left = { kind: "binary", operator: text, left, right: this.parseExpression(31) };
          continue;
        }
        if ((text === "±" || text === "∓") && minimumPower < 30) {
          this.position += 1;
          left = { kind: "plusMinus", left, right: this.parseExpression(31) };
          continue;
        }
        if ((text === "*" || text === "/") && minimumPower < 40) {
          this.position += 1;
          left = { kind: "binary", operator: text, left, right: this.parseExpression(41) };
          continue;
        }
        if (text === "^" && minimumPower < 60) {
          this.position += 1;
          left = { kind: "binary", operator: "^", left, right: this.parseArgument(59) };
          continue;
        }
        if (text === "!" && minimumPower < 70) {
          this.position += 1;
          left = { kind: "apply", name: "factorial", args: [left] };
          continue;
        }
        if (text === "'" && minimumPower < 70) {
          // A prime on an expression (`(x^2)'`) changes its meaning: keep it as an opaque function.
          this.position += 1;
          left = { kind: "apply", name: "user:prime", args: [left] };
          continue;
        }
        if (text === "_") {
          // A subscript on a non-symbol (e.g. a group) carries no value: skip it.
          this.position += 1;
          this.readSubscript();
          continue;
        }
      }
      if (minimumPower < 40 && this.skipUnit(left)) continue;
      if (minimumPower < 40 && this.startsOperand(token)) {
        const mixed = token.type === "command" && token.name.endsWith("frac") && isIntegerLiteral(left);
        const right = this.parseExpression(41);
        left =
          mixed && isSimpleFraction(right)
            ? { kind: "binary", operator: "+", left, right }
            : { kind: "binary", operator: "*", left, right };
        continue;
      }
      break;
    }
    this.depth -= 1;
    return left;
  }

  private parseRelation(first: MathNode): MathNode {
    const operators: RelationOperator[] = [];
    const operands: MathNode[] = [first];
    while (
      this.peek()?.type === "operator" &&
      relationOperators.has((this.peek() as { text: string }).text)
    ) {
      operators.push((this.peek() as { text: string }).text as RelationOperator);
      this.position += 1;
      operands.push(this.parseExpression(10));
    }
    return { kind: "relation", operators, operands };
  }

  /** Units after a quantity (`5 cm`, `15\mbox{ cm}^2`) are dropped. */
  private skipUnit(quantity: MathNode): boolean {
    const token = this.peek();
    if (token === undefined || this.isSeparator()) return false;
    const isUnit =
      (token.type === "word" && isUnitWord(token.text)) ||
      (token.type === "text" &&
        (isUnitText(token.text) ||
          (isNumeric(quantity) && /^[\sA-Za-z'-]*[A-Za-z][\sA-Za-z'-]*$/.test(token.text))));
    if (!isUnit) return false;
    this.position += 1;
    if (this.isOperator("^")) {
      this.position += 1;
      this.parseArgument(59);
    }
    return true;
  }

  private startsOperand(token: Token): boolean {
    switch (token.type) {
      case "number":
      case "letter":
      case "command":
      case "begin":
        return true;
      case "word":
        return !separatorWords.has(token.text.toLowerCase());
      case "text":
        return token.text.trim() !== "" && !this.isSeparator();
      case "end":
        return false;
      case "operator":
        return (
          token.text === "(" ||
          token.text === "{" ||
          token.text === "\\{" ||
          (token.text === "|" && this.absoluteDepth === 0)
        );
    }
  }

  /** The argument of `^`, `\frac`, `\sqrt`: a braced group or a single atom. */
  private parseArgument(power: number): MathNode {
    if (this.isOperator("{")) return this.parseBraceGroup();
    const token = this.peek();
    if (token?.type === "number" && token.text.length > 1 && power > 59) {
      // LaTeX takes one character: \frac12 is \frac{1}{2}.
      this.position += 1;
      this.tokens.splice(this.position, 0, { type: "number", text: token.text.slice(1) });
      return this.numberNode(token.text.slice(0, 1));
    }
    return this.parseExpression(power);
  }

  private parseBraceGroup(): MathNode {
    this.expectOperator("{");
    const items = this.parseSequence();
    this.expectOperator("}");
    if (items.length === 0) throw new MathSyntaxError("empty group");
    return items.length === 1 ? (items[0] as MathNode) : { kind: "set", items };
  }

  private numberNode(text: string): MathNode {
    const value = parseDecimal(text);
    if (value === undefined) throw new MathSyntaxError(`bad number ${text}`);
    return text.includes(".") ? { kind: "number", value, decimal: true } : { kind: "number", value };
  }

  private readSubscript(): string {
    if (this.isOperator("{")) {
      let depth = 0;
      let text = "";
      for (;;) {
        const token = this.peek();
        if (token === undefined) throw new MathSyntaxError("unclosed subscript");
        this.position += 1;
        if (token.type === "operator" && token.text === "{") depth += 1;
        else if (token.type === "operator" && token.text === "}") {
          depth -= 1;
          if (depth === 0) return text;
        }
        if (!(token.type === "operator" && (token.text === "{" || token.text === "}")))
          text += tokenText(token);
      }
    }
    const token = this.peek();
    if (token === undefined) throw new MathSyntaxError("empty subscript");
    this.position += 1;
    return tokenText(token);
  }

  private parsePrefix(): MathNode {
    const token = this.peek();
    if (token === undefined) throw new MathSyntaxError("unexpected end");
    this.position += 1;
    switch (token.type) {
      case "number":
        return this.parseNumber(token.text);
      case "letter":
        return this.parseSymbol(token.text);
      case "word":
        return this.parseWord(token.text);
      case "command":
        return this.parseCommand(token.name);
      case "text":
        return this.parseText(token.text);
      case "begin":
        return this.parseEnvironment(token.name);
      case "end":
        throw new MathSyntaxError(`unexpected \\end{${token.name}}`);
      case "operator":
        return this.parsePrefixOperator(token.text);
    }
  }

  private parseNumber(text: string): MathNode {
    if (!this.isOperator("_")) return this.numberNode(text);
    this.position += 1;
    const base = Number(this.readSubscript());
    if (!Number.isInteger(base) || base < 2 || base > 36 || !/^[0-9a-z]+$/i.test(text)) {
      throw new MathSyntaxError(`bad number base ${base}`);
    }
    let value = 0n;
    for (const digit of text.toLowerCase()) {
      const digitValue = Number.parseInt(digit, 36);
      if (digitValue >= base) throw new MathSyntaxError(`digit ${digit} is not valid in base ${base}`);
      value = value * BigInt(base) + BigInt(digitValue);
    }
    return { kind: "number", value: rational(value) };
  }

  private parseSymbol(name: string): MathNode {
    let fullName = name;
    if (this.isOperator("_")) {
      this.position += 1;
      fullName = `${name}_${this.readSubscript()}`;
    }
    while (this.isOperator("'")) {
      // y' and y'' are different symbols.
      this.position += 1;
      fullName += "'";
    }
    if (functionLetters.has(name) && this.isOperator("(")) {
      this.position += 1;
      const args = this.parseSequence();
      this.expectOperator(")");
      return { kind: "apply", name: `user:${fullName}`, args };
    }
    return { kind: "symbol", name: fullName };
  }

  private parseWord(text: string): MathNode {
    const lower = text.toLowerCase();
    if (functionNames.has(lower)) return this.parseFunction(lower);
    if (lower === "pi") return { kind: "symbol", name: "pi" };
    if (lower === "infinity" || lower === "inf" || lower === "infty") return { kind: "infinity" };
    if (isUnitWord(text)) {
      if (this.atSequenceEnd() || this.isSeparator())
        throw new MathSyntaxError(`unit ${text} without a quantity`);
      return this.parsePrefix();
    }
    return { kind: "word", text };
  }

  private parseText(text: string): MathNode {
    const trimmed = text.trim();
    if (trimmed === "" || isUnitText(trimmed)) {
      if (this.atSequenceEnd() || this.isSeparator()) throw new MathSyntaxError("empty text");
      return this.parsePrefix();
    }
    const number = parseDecimal(trimmed);
    if (number !== undefined) return { kind: "number", value: number };
    // `\text{(C)}` names the choice C, as `\text{C}` does.
    const letter = /^\(?\s*([A-Za-z])\s*\)?$/.exec(trimmed)?.[1];
    if (letter !== undefined) return { kind: "symbol", name: letter };
    return { kind: "text", text: trimmed };
  }

  private parseCommand(name: string): MathNode {
    switch (name) {
      case "frac":
      case "dfrac":
      case "tfrac":
      case "cfrac": {
        const numerator = this.parseArgument(60);
        const denominator = this.parseArgument(60);
        return { kind: "binary", operator: "/", left: numerator, right: denominator };
      }
      case "sqrt": {
        if (this.isOperator("[")) {
          this.position += 1;
          const index = this.parseExpression(0);
          this.expectOperator("]");
          return { kind: "apply", name: "root", args: [this.parseArgument(60), index] };
        }
        return { kind: "apply", name: "sqrt", args: [this.parseArgument(60)] };
      }
      case "binom":
      case "dbinom":
      case "tbinom":
        return { kind: "apply", name: "binom", args: [this.parseArgument(60), this.parseArgument(60)] };
      case "pi":
        return { kind: "symbol", name: "pi" };
      case "infty":
      case "infin":
        return { kind: "infinity" };
      case "emptyset":
      case "varnothing":
        return { kind: "emptySet" };
      default:
        if (functionNames.has(name)) return this.parseFunction(name);
        return this.parseSymbol(name.length === 1 ? name : `\\${name}`);
    }
  }

  /** `\sin x`, `\sin^2 x`, `\log_2 8`, `\ln(x+1)`, `\sin b \cos a` = sin(b)·cos(a). */
  private parseFunction(name: string): MathNode {
    let exponent: MathNode | undefined;
    let base: MathNode | undefined;
    for (let guard = 0; guard < 2; guard += 1) {
      if (this.isOperator("^")) {
        this.position += 1;
        exponent = this.parseArgument(60);
      } else if (this.isOperator("_")) {
        this.position += 1;
        base = this.parseArgument(60);
      }
    }
    let argument: MathNode;
    if (this.isOperator("(")) {
      this.position += 1;
      argument = this.parseExpression(0);
      this.expectOperator(")");
    } else {
      argument = this.parseExpression(41);
      while (this.peek()?.type === "number" || this.peek()?.type === "letter") {
        argument = { kind: "binary", operator: "*", left: argument, right: this.parseExpression(41) };
      }
    }
    const applied: MathNode =
      base === undefined
        ? { kind: "apply", name, args: [argument] }
        : { kind: "apply", name: "logBase", args: [argument, base] };
    return exponent === undefined
      ? applied
      : { kind: "binary", operator: "^", left: applied, right: exponent };
  }

  private parsePrefixOperator(text: string): MathNode {
    switch (text) {
      case "-":
        return { kind: "negate", operand: this.parseExpression(45) };
      case "+":
        return this.parseExpression(45);
      case "±":
      case "∓":
        return { kind: "plusMinus", left: undefined, right: this.parseExpression(45) };
      case "(":
      case "[":
        return this.parseBracket(text);
      case "{": {
        this.position -= 1;
        return this.parseBraceGroup();
      }
      case "\\{": {
        const items = this.parseSequence();
        this.expectOperator("\\}");
        return items.length === 0 ? { kind: "emptySet" } : { kind: "set", items };
      }
      case "|": {
        this.absoluteDepth += 1;
        const inner = this.parseExpression(0);
        this.absoluteDepth -= 1;
        this.expectOperator("|");
        return { kind: "apply", name: "abs", args: [inner] };
      }
      case "∞":
        return { kind: "infinity" };
      default:
        throw new MathSyntaxError(`unexpected ${text}`);
    }
  }

  private parseBracket(open: "(" | "["): MathNode {
    const savedAbsoluteDepth = this.absoluteDepth;
    this.absoluteDepth = 0;
    const items = this.parseSequence();
    this.absoluteDepth = savedAbsoluteDepth;
    const close = this.peek();
    if (close?.type !== "operator" || (close.text !== ")" && close.text !== "]")) {
      throw new MathSyntaxError(`unclosed ${open}`);
    }
    this.position += 1;
    if (items.length === 0) throw new MathSyntaxError("empty brackets");
    if (
      items.length === 1 &&
      ((open === "(" && close.text === ")") || (open === "[" && close.text === "]"))
    ) {
      return items[0] as MathNode;
    }
    return { kind: "bracket", open, close: close.text, items };
  }

  private parseEnvironment(name: string): MathNode {
    if (!matrixEnvironments.has(name)) throw new MathSyntaxError(`unsupported environment ${name}`);
    if (name === "array" && this.isOperator("{")) {
      while (this.peek() !== undefined && !this.isOperator("}")) this.position += 1;
      this.position += 1;
    }
    const rows: MathNode[][] = [[]];
    for (;;) {
      const token = this.peek();
      if (token === undefined) throw new MathSyntaxError(`unclosed ${name}`);
      if (token.type === "end") {
        this.position += 1;
        break;
      }
      if (token.type === "operator" && token.text === "&") {
        this.position += 1;
        continue;
      }
      if (token.type === "operator" && token.text === "\\\\") {
        this.position += 1;
        rows.push([]);
        continue;
      }
      (rows[rows.length - 1] as MathNode[]).push(this.parseExpression(0));
    }
    const filled = rows.filter((row) => row.length > 0);
    if (filled.length === 0) throw new MathSyntaxError("empty matrix");
    return { kind: "matrix", rows: filled };
  }
}

/** A constant built from numbers only (`5`, `-3`, `\\frac{1}{2}`, `2\\sqrt{3}`). */
const isNumeric = (node: MathNode): boolean => {
  switch (node.kind) {
    case "number":
      return true;
    case "negate":
      return isNumeric(node.operand);
    case "binary":
      return isNumeric(node.left) && isNumeric(node.right);
    case "apply":
      return node.name === "sqrt" && node.args.every(isNumeric);
    default:
      return false;
  }
};

const isIntegerLiteral = (node: MathNode): boolean => node.kind === "number" && node.value.denominator === 1n;

/** `\frac{1}{2}` with integer literals: after an integer it forms a mixed number, `2\frac{1}{2}` = 5/2. */
const isSimpleFraction = (node: MathNode): boolean =>
  node.kind === "binary" &&
  node.operator === "/" &&
  isIntegerLiteral(node.left) &&
  isIntegerLiteral(node.right);

const tokenText = (token: Token): string => {
  switch (token.type) {
    case "command":
    case "begin":
    case "end":
      return token.name;
    default:
      return token.text;
  }
};

const describe = (token: Token): string => `${token.type} ${JSON.stringify(tokenText(token))}`;

/** Parse normalised answer text into a {@link MathNode}; throws {@link MathSyntaxError}. */
export const parseLatex = (text: string): MathNode => new Parser(tokenize(text)).parseAnswer();
