import * as tf from "@tensorflow/tfjs-core";
import type { LinearAdapter } from "../../model/LinearAdapter.js";

/** Named parameters of a model, canonical checkpoint names → variables. */
export type ParameterMap = ReadonlyMap<string, tf.Variable>;

/** Look up a parameter, failing loudly on a programming error. */
export const parameter = (parameters: ParameterMap, name: string): tf.Variable => {
  const found = parameters.get(name);
  if (found === undefined) throw new Error(`internal: parameter "${name}" is not loaded`);
  return found;
};

/**
 * The one place every linear layer of the model is applied: `y = x·Wᵀ + b` with the weight
 * `${moduleName}.weight` (`[out, in]`, PyTorch layout) and the bias `${moduleName}.bias` when the
 * checkpoint has one, then the adapter (LoRA) hook.
 */
export const applyLinear = (
  parameters: ParameterMap,
  adapter: LinearAdapter | undefined,
  moduleName: string,
  x: tf.Tensor,
): tf.Tensor =>
  tf.tidy(() => {
    const weight = parameter(parameters, `${moduleName}.weight`);
    const bias = parameters.get(`${moduleName}.bias`);
    const inner = x.shape[x.shape.length - 1]!;
    const flat = tf.reshape(x, [-1, inner]) as tf.Tensor2D;
    const product = tf.matMul(flat, weight as tf.Tensor2D, false, true);
    const withBias = bias === undefined ? product : tf.add(product, bias);
    const output = tf.reshape(withBias, [...x.shape.slice(0, -1), weight.shape[0]!]);
    return adapter === undefined ? output : adapter.apply(moduleName, x, output);
  });
