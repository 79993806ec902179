import * as tf from "@tensorflow/tfjs-core";
import type { Qwen25VLConfig } from "../../config/Qwen25VLConfig.js";
import type { LinearAdapter } from "../../model/LinearAdapter.js";
import type { Qwen25VLLayerCache } from "../../model/Qwen25VLCache.js";
import { checkpointSegment, segmentVariables, tapeRecording } from "./activationCheckpoint.js";
import { applyLinear, type ParameterMap, parameter, type SharedInput, sharedInput } from "./linear.js";
import {
  addWithoutSaving,
  applyRotary,
  batchedMatMul,
  inverseFrequencies,
  maskedScore,
  rmsNorm,
  scaledMaskedSoftmax,
  swiGlu,
} from "./ops.js";

/** Rotated keys and values of one decoder layer, `[B, kvHeads, T, headDim]`. */
export type LayerCache = Qwen25VLLayerCache;

/** True while a gradient is being recorded: intermediates must then stay alive. */
export const recordingGradients = (): boolean =>
  (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0;

/**
 * M-RoPE cos/sin `[B, S, 1, headDim]`: frequency j takes its position from row t, h or w according
 * to `mropeSection`; angles `position·inv[j]` in float32, then `concat(a, a)`.
 */
export const mropeTables = (
  positionIds: ReadonlyArray<ReadonlyArray<ReadonlyArray<number>>>,
  config: Qwen25VLConfig,
): { cos: Float32Array; sin: Float32Array } => {
  const { headDim, ropeTheta, mropeSection } = config.text;
  const inverse = inverseFrequencies(headDim, ropeTheta);
  const half = headDim / 2;
  const axisOf = Array.from({ length: half }, (_, j) =>
    j < mropeSection[0] ? 0 : j < mropeSection[0] + mropeSection[1] ? 1 : 2,
  );
  const batch = positionIds[0]!.length;
  const length = positionIds[0]![0]!.length;
  const cos = new Float32Array(batch * length * headDim);
  const sin = new Float32Array(batch * length * headDim);
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < length; s++) {
      const base = (b * length + s) * headDim;
      for (let j = 0; j < half; j++) {
        const angle = Math.fround(positionIds[axisOf[j]!]![b]![s]! * inverse[j]!);
        cos[base + j] = cos[base + half + j] = Math.cos(angle);
        sin[base + j] = sin[base + half + j] = Math.sin(angle);
      }
    }
  }
  return { cos, sin };
};

/** Causal + key-padding additive mask `[B, 1, S, past+S]` (0 allowed, −1e9 masked). */
export const decoderMask = (
  fullMask: ReadonlyArray<ReadonlyArray<number>>,
  past: number,
  length: number,
): Float32Array => {
  const batch = fullMask.length;
  const total = past + length;
  const out = new Float32Array(batch * length * total);
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < length; s++) {
      for (let t = 0; t < total; t++) {
        const allowed = t <= past + s && fullMask[b]![t] === 1;
        if (!allowed) out[(b * length + s) * total + t] = maskedScore;
      }
    }
  }
  return out;
};

export interface DecoderInputs {
  readonly embeds: tf.Tensor3D;
  readonly cos: tf.Tensor4D;
  readonly sin: tf.Tensor4D;
  readonly mask: tf.Tensor4D;
  readonly past: ReadonlyArray<LayerCache> | undefined;
}

/** What every decoder layer reads: the weights, the adapter and the config. */
export interface LayerContext {
  readonly parameters: ParameterMap;
  readonly adapter: LinearAdapter | undefined;
  readonly config: Qwen25VLConfig;
}

/** One layer's self-attention of its normed input: the `o_proj` output and the layer's keys/values. */
export type SelfAttention = (
  context: LayerContext,
  prefix: string,
  normed: tf.Tensor,
  index: number,
) => { readonly output: tf.Tensor; readonly key: tf.Tensor4D; readonly value: tf.Tensor4D };

/** `[B, S, count·headDim]` projections as heads `[B, count, S, headDim]`. */
export const splitHeads = (
  projected: tf.Tensor,
  batch: number,
  length: number,
  count: number,
  headDim: number,
) => tf.transpose(tf.reshape(projected, [batch, length, count, headDim]), [0, 2, 1, 3]);

/**
 * Grouped-query attention of rotated queries `q` `[B, heads, S, headDim]` over `key`/`value`
 * `[B, kvHeads, T, headDim]` with the additive `mask` `[B, 1, S, T]` (softmax in float32): the
 * heads' contexts merged, `[B, S, heads·headDim]`.
 */
export const attend = (
  config: Qwen25VLConfig,
  q: tf.Tensor,
  key: tf.Tensor4D,
  value: tf.Tensor4D,
  mask: tf.Tensor4D,
): tf.Tensor => {
  const { numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim } = config.text;
  const [batch, , length] = q.shape as [number, number, number, number];
  const total = key.shape[2];
  const groups = heads / kvHeads;
  const grouped = tf.reshape(q, [batch, kvHeads, groups * length, headDim]);
  const products = tf.reshape(batchedMatMul(grouped, key, true), [batch, heads, length, total]);
  const probabilities = tf.reshape(scaledMaskedSoftmax(products, 1 / Math.sqrt(headDim), mask), [
    batch,
    kvHeads,
    groups * length,
    total,
  ]);
  const context4 = tf.reshape(batchedMatMul(probabilities, value, false), [batch, heads, length, headDim]);
  return tf.reshape(tf.transpose(context4, [0, 2, 1, 3]), [batch, length, heads * headDim]);
};

/** The attention of `[B, S, hidden]` rows over their own keys (after `inputs.past`'s, when cached). */
const plainAttention =
  (inputs: DecoderInputs): SelfAttention =>
  (context, prefix, x, index) => {
    const { config } = context;
    const { numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim } = config.text;
    const [batch, length] = x.shape as [number, number, number];
    // q, k and v read one transposed copy of x.
    const input = sharedInput(x);
    const project = (name: string, count: number) =>
      splitHeads(
        applyLinear(context.parameters, context.adapter, `${prefix}.${name}`, input),
        batch,
        length,
        count,
        headDim,
      );
    const rotate = (t: tf.Tensor) => applyRotary(t, inputs.cos, inputs.sin);
    const q = rotate(project("q_proj", heads));
    const newKey = rotate(project("k_proj", kvHeads)) as tf.Tensor4D;
    const newValue = project("v_proj", kvHeads) as tf.Tensor4D;
    const past = inputs.past?.[index];
    const key = (past === undefined ? newKey : tf.concat([past.key, newKey], 2)) as tf.Tensor4D;
    const value = (past === undefined ? newValue : tf.concat([past.value, newValue], 2)) as tf.Tensor4D;
    const merged = attend(config, q, key, value, inputs.mask);
    return {
      output: applyLinear(context.parameters, context.adapter, `${prefix}.o_proj`, merged),
      key,
      value,
    };
  };

/**
 * One pre-norm decoder layer: `h = x + attention(norm(x))`, `h + mlp(norm(h))`. `selfAttention`
 * is the plain one over `[B, S, hidden]` rows, or the shared-prompt forward's over flat
 * `[tokens, hidden]` rows (every other op of the layer is per token).
 */
export const decoderLayer = (
  context: LayerContext,
  index: number,
  x: tf.Tensor,
  selfAttention: SelfAttention,
) => {
  const { parameters, adapter, config } = context;
  const eps = config.text.rmsNormEps;
  const prefix = `model.layers.${index}`;
  const normed = rmsNorm(x, parameter(parameters, `${prefix}.input_layernorm.weight`), eps);
  const { output, key, value } = selfAttention(context, `${prefix}.self_attn`, normed, index);
  const h = addWithoutSaving(x, output);
  const normed2 = rmsNorm(h, parameter(parameters, `${prefix}.post_attention_layernorm.weight`), eps);
  const linear = (name: string, input: tf.Tensor | SharedInput) =>
    applyLinear(parameters, adapter, `${prefix}.mlp.${name}`, input);
  // gate and up read one transposed copy of the normed input.
  const mlpInput = sharedInput(normed2);
  const mlp = linear("down_proj", swiGlu(linear("gate_proj", mlpInput), linear("up_proj", mlpInput)));
  return { hidden: addWithoutSaving(h, mlp), key, value };
};

export interface DecoderResult {
  /** After the final norm, `[B, S, hidden]`. */
  readonly hidden: tf.Tensor3D;
  /** Input embeddings then each layer's output (before the final norm), on request. */
  readonly layerStates: ReadonlyArray<tf.Tensor3D>;
  readonly cache: ReadonlyArray<LayerCache>;
}

/**
 * The text decoder: pre-norm layers of GQA attention (q/k/v biases, M-RoPE, causal + padding mask,
 * softmax in float32) and SwiGLU, then the final RMSNorm. Call inside `tf.tidy`.
 */
export const runDecoder = (
  parameters: ParameterMap,
  adapter: LinearAdapter | undefined,
  config: Qwen25VLConfig,
  inputs: DecoderInputs,
  options: {
    readonly keepCache: boolean;
    readonly layerStates: boolean;
    /** Keep only the first this many rows of each layer state (a copy; the rest is freed as usual). */
    readonly layerStateRows?: number;
    /** Recompute each layer in the backward pass (only while a gradient tape records, without a cache). */
    readonly checkpoint?: boolean;
  },
): DecoderResult => {
  const context: LayerContext = { parameters, adapter, config };
  const rows = options.layerStateRows;
  /** The state kept of `x`: itself, or a copy of its first `rows` rows. */
  const kept = (x: tf.Tensor): tf.Tensor3D =>
    (rows === undefined ? x : tf.slice(x, [0, 0, 0], [rows, -1, -1])) as tf.Tensor3D;
  const layerStates: tf.Tensor3D[] = options.layerStates ? [kept(inputs.embeds)] : [];
  const cache: LayerCache[] = [];
  const free = !recordingGradients() && (!options.layerStates || rows !== undefined);
  const layers = config.text.numHiddenLayers;
  const checkpointed =
    options.checkpoint === true && !options.keepCache && inputs.past === undefined && tapeRecording()
      ? segmentVariables(
          parameters,
          adapter,
          Array.from({ length: layers }, (_, index) => `model.layers.${index}`),
        )
      : undefined;
  let x: tf.Tensor = inputs.embeds;
  for (let index = 0; index < layers; index++) {
    const current = x;
    if (checkpointed !== undefined) {
      // Only the layer's input stays on the tape; its activations are recomputed in the backward.
      x = checkpointSegment(
        (input, [cos, sin, mask]) =>
          tf.tidy(
            () =>
              decoderLayer(
                context,
                index,
                input,
                plainAttention({
                  ...inputs,
                  cos: cos as tf.Tensor4D,
                  sin: sin as tf.Tensor4D,
                  mask: mask as tf.Tensor4D,
                }),
              ).hidden,
          ),
        current,
        [inputs.cos, inputs.sin, inputs.mask],
        checkpointed[index]!,
        adapter,
      );
      if (options.layerStates) layerStates.push(kept(x));
      continue;
    }
    const layer = tf.tidy(() => decoderLayer(context, index, current, plainAttention(inputs)));
    if (options.keepCache) cache.push({ key: layer.key, value: layer.value });
    if (free && x !== inputs.embeds) x.dispose();
    x = layer.hidden;
    if (options.layerStates) layerStates.push(kept(x));
  }
  const hidden = rmsNorm(
    x,
    parameter(parameters, "model.norm.weight"),
    config.text.rmsNormEps,
  ) as tf.Tensor3D;
  return { hidden, layerStates, cache };
};
