import type * as tf from "@tensorflow/tfjs-core";

/**
 * A hook on every linear layer of the model (the LoRA entry point). The model computes
 * `output = x·Wᵀ + b` for the module `moduleName` (e.g. `model.layers.3.self_attn.q_proj`,
 * `model.layers.3.mlp.down_proj`, `visual.blocks.0.attn.qkv`) and then calls
 * `apply(moduleName, input, output)`; the adapter returns the tensor to use instead, e.g.
 * `output + (α/r)·B(A(dropout(input)))` for the modules it targets and `output` itself for the
 * others. `input` is `[..., in]` and `output` `[..., out]`. It runs inside the model's `tf.tidy`,
 * so intermediate tensors need no disposal; it must be differentiable for training.
 *
 * @since 0.1.0
 * @category model
 */
export interface LinearAdapter {
  readonly apply: (moduleName: string, input: tf.Tensor, output: tf.Tensor) => tf.Tensor;
  /**
   * The adapter's own variables (LoRA's `A` and `B`). Activation checkpointing needs them to route
   * their gradients through a recomputed layer; an adapter without this list is never checkpointed
   * (its layers keep their activations). Since 0.2.0.
   */
  readonly variables?: () => ReadonlyArray<tf.Variable>;
  /**
   * A counter of the adapter's random draws (dropout seeds), when it has any. Activation
   * checkpointing rewinds it before recomputing a layer, so the recomputation draws the same masks.
   * Since 0.2.0.
   */
  randomDraws?: number;
}
