import * as tf from "@tensorflow/tfjs-core";

/**
 * Kernels whose outputs are piecewise constant in their inputs (booleans), so their gradient is
 * zero almost everywhere. tfjs-core defines no gradient for them, which makes a gradient fail with
 * "gradient function not found for Greater" as soon as a mask computed from a differentiated
 * tensor feeds `where` (e.g. the clip mask of a PPO surrogate). TensorFlow and PyTorch treat them
 * as non-differentiable; apo-rl registers a zero gradient for each.
 */
export const ZERO_GRADIENT_KERNELS: Readonly<Record<string, ReadonlyArray<string>>> = {
  Equal: ["a", "b"],
  NotEqual: ["a", "b"],
  Greater: ["a", "b"],
  GreaterEqual: ["a", "b"],
  Less: ["a", "b"],
  LessEqual: ["a", "b"],
  LogicalAnd: ["a", "b"],
  LogicalOr: ["a", "b"],
  LogicalNot: ["x"],
  IsNan: ["x"],
  IsInf: ["x"],
  IsFinite: ["x"],
};

const zeroGradient = (kernelName: string, inputNames: ReadonlyArray<string>): tf.GradConfig => ({
  kernelName,
  inputsToSave: [...inputNames],
  gradFunc: (_dy, saved) =>
    Object.fromEntries(
      inputNames.map((name, index) => [name, () => tf.zeros((saved[index] as tf.Tensor).shape, "float32")]),
    ),
});

/** Registers the zero gradients tfjs lacks; leaves any gradient tfjs defines alone. */
export const registerZeroGradients = (): void => {
  for (const [kernelName, inputNames] of Object.entries(ZERO_GRADIENT_KERNELS))
    if (tf.getGradient(kernelName) === undefined) tf.registerGradient(zeroGradient(kernelName, inputNames));
};
