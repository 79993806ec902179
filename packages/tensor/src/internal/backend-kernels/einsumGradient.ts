import * as tf from "@tensorflow/tfjs-core";

/** Splits `"ij,jk->ik"` into the operands' subscripts and the output's. */
const parse = (equation: string): { operands: ReadonlyArray<string>; output: string } => {
  const [left = "", output = ""] = equation.replace(/\s/g, "").split("->");
  return { operands: left.split(","), output };
};

interface Term {
  readonly tensor: tf.Tensor;
  readonly subscripts: string;
}

/** Sums a term over the letters that `keep` does not contain (they occur in no other term). */
const sumOutLocal = (term: Term, keep: string): Term => {
  const letters = [...term.subscripts];
  const axes = letters.flatMap((letter, axis) => (keep.includes(letter) ? [] : [axis]));
  if (axes.length === 0) return term;
  return {
    tensor: tf.sum(term.tensor, axes),
    subscripts: letters.filter((letter) => keep.includes(letter)).join(""),
  };
};

/**
 * The gradient of operand `index`: contract the upstream gradient with every other operand onto
 * the subscripts of `index` that appear elsewhere, then broadcast along the subscripts only this
 * operand has (they were summed out of it alone, so every entry receives the same gradient).
 * Letters that occur in a single other operand are summed out of it first: tfjs's cpu `Einsum`
 * kernel ignores an operand that holds none of the summed letters.
 */
const operandGradient = (
  dy: tf.Tensor,
  operands: ReadonlyArray<tf.Tensor>,
  equation: string,
  index: number,
): tf.Tensor =>
  tf.tidy(() => {
    const { operands: subscripts, output } = parse(equation);
    const own = subscripts[index] as string;
    const others = subscripts.flatMap((letters, term) =>
      term === index ? [] : [{ tensor: operands[term] as tf.Tensor, subscripts: letters }],
    );
    const elsewhere = output + others.map((term) => term.subscripts).join("");
    const kept = [...own].filter((letter) => elsewhere.includes(letter)).join("");
    const terms: ReadonlyArray<Term> = [
      { tensor: dy, subscripts: output },
      ...others.map((term, at) =>
        sumOutLocal(
          term,
          kept + output + others.flatMap((other, j) => (j === at ? [] : [other.subscripts])).join(""),
        ),
      ),
    ];
    const contracted =
      terms.length === 1 && terms[0]?.subscripts === kept
        ? dy
        : tf.einsum(
            `${terms.map((term) => term.subscripts).join(",")}->${kept}`,
            ...terms.map((term) => term.tensor),
          );
    const target = operands[index] as tf.Tensor;
    if (kept.length === own.length) return contracted;
    const padded = tf.reshape(
      contracted,
      [...own].map((letter, axis) => (kept.includes(letter) ? (target.shape[axis] as number) : 1)),
    );
    return tf.broadcastTo(padded, target.shape);
  });

/**
 * The gradient of `Einsum`, which tfjs-core 4.22 does not define: for operand `i`,
 * `∂L/∂x_i = einsum(dy, x_j (j ≠ i) → subscripts of x_i)`, broadcast over subscripts that occur
 * only in `x_i`.
 */
export const einsumGradient: tf.GradConfig = {
  kernelName: "Einsum",
  saveAllInputs: true,
  gradFunc: (dy, saved, attrs) => {
    const equation = (attrs as { equation: string }).equation;
    const upstream = Array.isArray(dy) ? (dy[0] as tf.Tensor) : dy;
    return Object.fromEntries(
      saved.map((_, index) => [index, () => operandGradient(upstream, saved, equation, index)]),
    );
  },
};

/** Registers {@link einsumGradient} unless tfjs (a later version) already has one. */
export const registerEinsumGradient = (): void => {
  if (tf.getGradient("Einsum") === undefined) tf.registerGradient(einsumGradient);
};
