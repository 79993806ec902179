import * as tf from "@tensorflow/tfjs-core";
import { LoraAdapter } from "../../lora/LoraAdapter.js";
import type { LinearAdapter } from "../../model/LinearAdapter.js";

/**
 * The adapter of a batch whose first `policyRows` rows run under `policy` and the others under
 * `reference` (`null`: the base weights), e.g. a LoRA policy's rollouts and their reference twins
 * in one forward. Rows never mix in a linear layer, so each row's output is its own adapter's; a
 * module neither adapter changes passes through untouched. A LoRA policy against the base weights
 * runs as the plain adapter with a per-row scale (0 for the twins): no extra op per module.
 * Text-decoder modules only: the vision tower's rows are patches, not batch rows.
 */
export const twinRowsAdapter = (
  policy: LinearAdapter | null,
  reference: LinearAdapter | null,
  policyRows: number,
): LinearAdapter => {
  /** `[B·S, 1]` scales of `[B, S, …]` inputs by token count `B·S` (made inside the caller's tidy). */
  const rowScale = (lora: LoraAdapter, shape: ReadonlyArray<number>) => {
    const rows = shape[0]!;
    const perRow = shape.slice(1, -1).reduce((product, extent) => product * extent, 1);
    const values = new Float32Array(rows * perRow);
    values.fill(lora.scale, 0, policyRows * perRow);
    return tf.tensor2d(values, [rows * perRow, 1]);
  };
  return {
    apply: (moduleName, input, output) => {
      // Batch rows exist in the text decoder only; the twins' images are encoded beforehand.
      if (!moduleName.startsWith("model.layers."))
        throw new Error(`twin rows: ${moduleName} is not a text-decoder module; encode the images first`);
      if (policy instanceof LoraAdapter && reference === null)
        return policy.enabled && policy.modules.has(moduleName)
          ? policy.applyScaled(moduleName, input, output, rowScale(policy, input.shape))
          : output;
      const first = policy === null ? output : policy.apply(moduleName, input, output);
      const second = reference === null ? output : reference.apply(moduleName, input, output);
      if (first === output && second === output) return output;
      const rest = output.shape[0]! - policyRows;
      const [head] = tf.split(first, [policyRows, rest], 0);
      const [, tail] = tf.split(second, [policyRows, rest], 0);
      return tf.concat([head!, tail!], 0);
    },
  };
};
