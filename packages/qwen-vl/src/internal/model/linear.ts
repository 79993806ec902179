import * as tf from "@tensorflow/tfjs-core";
import type { LinearAdapter } from "../../model/LinearAdapter.js";
import { addWithoutSaving, tidyStructured } from "./ops.js";

/** Named parameters of a model, canonical checkpoint names → variables. */
export type ParameterMap = ReadonlyMap<string, tf.Variable>;

/** Look up a parameter, failing loudly on a programming error. */
export const parameter = (parameters: ParameterMap, name: string): tf.Variable => {
  const found = parameters.get(name);
  if (found === undefined) throw new Error(`internal: parameter "${name}" is not loaded`);
  return found;
};

/**
 * `x·Wᵀ` for `x` `[N, in]` and `W` `[out, in]`, computed as `(W·xᵀ)ᵀ`. On the wasm backend this is
 * an order of magnitude faster than `matMul(x, W, false, true)` (whose transposed-operand path is
 * not vectorised) and, unlike `x·(Wᵀ)` with a stored transposed weight, XNNPACK does not keep a
 * packed copy of every weight on the 4 GiB heap. Numerically the same product. `transposed`, when
 * given, is `xᵀ` `[in, N]` already made (shared by the projections of one input).
 */
export const projectRows = (x: tf.Tensor2D, weight: tf.Tensor2D, transposed?: tf.Tensor2D): tf.Tensor2D =>
  tf.tidy(() => tf.transpose(tf.matMul(weight, transposed ?? tf.transpose(x))) as tf.Tensor2D);

/**
 * `x` `[…, in]` as rows `[N, in]` and their transpose `[in, N]`: the right operand of
 * {@link projectRows}, made once for every projection of the same input (q, k, v of an attention;
 * gate and up of an MLP) — one transpose in the forward and one in the backward instead of one per
 * projection, and one saved copy of `xᵀ` on the gradient tape instead of one per projection.
 */
export const sharedInput = (x: tf.Tensor): SharedInput =>
  tidyStructured(() => {
    const inner = x.shape[x.shape.length - 1]!;
    const rows = tf.reshape(x, [-1, inner]) as tf.Tensor2D;
    return { x, rows, transposed: tf.transpose(rows) as tf.Tensor2D };
  });

/** What {@link sharedInput} makes: the input, its rows `[N, in]` and their transpose `[in, N]`. */
export interface SharedInput {
  readonly x: tf.Tensor;
  readonly rows: tf.Tensor2D;
  readonly transposed: tf.Tensor2D;
}

/**
 * The one place every linear layer of the model is applied: `y = x·Wᵀ + b` with the weight
 * `${moduleName}.weight` (`[out, in]`, PyTorch layout) and the bias `${moduleName}.bias` when the
 * checkpoint has one, then the adapter (LoRA) hook. `x` may be a {@link sharedInput}.
 */
export const applyLinear = (
  parameters: ParameterMap,
  adapter: LinearAdapter | undefined,
  moduleName: string,
  input: tf.Tensor | SharedInput,
): tf.Tensor =>
  tf.tidy(() => {
    const shared = input instanceof tf.Tensor ? undefined : input;
    const x = shared === undefined ? (input as tf.Tensor) : shared.x;
    const weight = parameter(parameters, `${moduleName}.weight`);
    const bias = parameters.get(`${moduleName}.bias`);
    const inner = x.shape[x.shape.length - 1]!;
    const flat = shared?.rows ?? (tf.reshape(x, [-1, inner]) as tf.Tensor2D);
    const product = projectRows(flat, weight as tf.Tensor as tf.Tensor2D, shared?.transposed);
    const withBias = bias === undefined ? product : addWithoutSaving(product, bias);
    const output = tf.reshape(withBias, [...x.shape.slice(0, -1), weight.shape[0]!]);
    return adapter === undefined ? output : adapter.apply(moduleName, x, output);
  });
