import * as tf from "@tensorflow/tfjs-core";
import { addWithoutSaving } from "../internal/model/ops.js";
import { recordingGradients } from "../internal/model/textDecoder.js";
import type { LinearAdapter } from "../model/LinearAdapter.js";
import type { Qwen25VLModel } from "../model/Qwen25VLModel.js";
import { ALL_LORA_TARGET_MODULES, decodeLoraOptions, type LoraTargetModule } from "./LoraOptions.js";

/**
 * The low-rank pair of one adapted module: `A` `[rank, in]`, `B` `[out, rank]`.
 *
 * @since 0.1.0
 * @category lora
 */
export interface LoraModule {
  readonly a: tf.Variable;
  readonly b: tf.Variable;
}

const ATTENTION_MODULES: ReadonlySet<string> = new Set(["q_proj", "k_proj", "v_proj", "o_proj"]);

/** The module path of a target in decoder layer `layer`, e.g. `model.layers.0.self_attn.q_proj`. */
export const loraModuleName = (layer: number, target: LoraTargetModule): string =>
  `model.layers.${layer}.${ATTENTION_MODULES.has(target) ? "self_attn" : "mlp"}.${target}`;

/** A variable holding `value` (which is disposed). */
const variableOf = (value: tf.Tensor, name: string): tf.Variable => {
  const variable = tf.variable(value, true, name);
  value.dispose();
  return variable;
};

let instances = 0;

/**
 * LoRA adapters on a Qwen2.5-VL text decoder, as the model's {@link LinearAdapter}: for each
 * adapted module, `y = x·Wᵀ + b + (alpha/rank)·(dropout(x)·Aᵀ)·Bᵀ`. Dropout is active only while
 * gradients are recorded (a training forward), so sampling and scoring agree exactly. Setting
 * `enabled = false` (or running the model with `adapter: null`) gives the base model: the
 * reference policy needs no second copy of the weights.
 *
 * @since 0.1.0
 * @category lora
 */
export class LoraAdapter implements LinearAdapter {
  enabled = true;
  /** Dropout draws so far (the seed of the next mask); see {@link LinearAdapter.randomDraws}. */
  randomDraws = 0;

  constructor(
    readonly rank: number,
    readonly alpha: number,
    readonly dropout: number,
    readonly targetModules: ReadonlyArray<LoraTargetModule>,
    /** Module name (`model.layers.0.self_attn.q_proj`) → its pair. */
    readonly modules: ReadonlyMap<string, LoraModule>,
  ) {}

  /** `alpha / rank`. */
  get scale(): number {
    return this.alpha / this.rank;
  }

  readonly apply = (moduleName: string, input: tf.Tensor, output: tf.Tensor): tf.Tensor =>
    this.applyScaled(moduleName, input, output, this.scale);

  /**
   * {@link apply} with `scale` in place of `alpha / rank`: a number, or a `[N, 1]` column of one
   * factor per flattened input row (0 leaves a row's output as it is: the reference twins of
   * generation, in the same ops as the plain adapter).
   */
  applyScaled(moduleName: string, input: tf.Tensor, output: tf.Tensor, scale: number | tf.Tensor): tf.Tensor {
    const pair = this.enabled ? this.modules.get(moduleName) : undefined;
    if (pair === undefined) return output;
    const inner = input.shape[input.shape.length - 1]!;
    const flat = tf.reshape(input, [-1, inner]) as tf.Tensor2D;
    const dropped =
      this.dropout > 0 && recordingGradients()
        ? tf.dropout(flat, this.dropout, undefined, this.randomDraws++)
        : flat;
    // The scale goes on the rank-r side, and the sum keeps nothing for the backward: only `[N, r]`
    // tensors of the adapter stay on the gradient tape, no `[N, out]` one.
    const low = tf.mul(tf.matMul(dropped, pair.a as tf.Tensor as tf.Tensor2D, false, true), scale);
    const delta = tf.matMul(low, pair.b as tf.Tensor as tf.Tensor2D, false, true);
    return addWithoutSaving(output, tf.reshape(delta, output.shape));
  }

  /** Every `A` and `B` variable (what an optimiser updates). */
  variables(): ReadonlyArray<tf.Variable> {
    return [...this.modules.values()].flatMap((pair) => [pair.a, pair.b]);
  }

  /** `W + (alpha/rank)·B·A` of an adapted module's weight (a new tensor the caller disposes). */
  mergedWeight(moduleName: string, weight: tf.Tensor): tf.Tensor {
    const pair = this.modules.get(moduleName);
    if (pair === undefined) return weight.clone();
    return tf.tidy(() => tf.add(weight, tf.mul(tf.matMul(pair.b, pair.a), this.scale)));
  }

  dispose(): void {
    for (const variable of this.variables()) variable.dispose();
  }
}

/**
 * Create LoRA adapters for `model`'s text decoder (rank, alpha, dropout, target modules; `A`
 * Kaiming-uniform as PEFT, `B` zero so the adapted model starts equal to the base) and install
 * them as `model.linearAdapter`. The model's own weights are left as they are (freeze them with
 * the policy, which marks only the adapters trainable).
 *
 * @since 0.1.0
 * @category lora
 */
export const createLoraAdapter = (model: Qwen25VLModel, options: unknown): LoraAdapter => {
  const decoded = decodeLoraOptions(options);
  const targets = decoded.targetModules ?? ALL_LORA_TARGET_MODULES;
  const instance = ++instances;
  const seed = decoded.seed ?? 0;
  const modules = new Map<string, LoraModule>();
  for (let layer = 0; layer < model.config.text.numHiddenLayers; layer++) {
    targets.forEach((target, index) => {
      const name = loraModuleName(layer, target);
      const weight = model.parameters.get(`${name}.weight`);
      if (weight === undefined) throw new RangeError(`LoRA: the model has no ${name}.weight`);
      const [out, inner] = weight.shape as [number, number];
      const bound = 1 / Math.sqrt(inner);
      const a = tf.tidy(() =>
        tf.randomUniform(
          [decoded.rank, inner],
          -bound,
          bound,
          "float32",
          seed * 1_000_003 + layer * 7 + index,
        ),
      );
      modules.set(name, {
        a: variableOf(a, `lora-${instance}/${name}.lora_A`),
        b: variableOf(tf.zeros([out, decoded.rank]), `lora-${instance}/${name}.lora_B`),
      });
    });
  }
  const adapter = new LoraAdapter(decoded.rank, decoded.alpha, decoded.dropout ?? 0, targets, modules);
  model.linearAdapter = adapter;
  return adapter;
};
