import * as tf from "@tensorflow/tfjs-core";
import type { Qwen25VLConfig } from "../../config/Qwen25VLConfig.js";
import type { LinearAdapter } from "../../model/LinearAdapter.js";
import { checkpointSegment, segmentVariables, tapeRecording } from "./activationCheckpoint.js";
import { applyLinear, type ParameterMap, parameter, sharedInput } from "./linear.js";
import { applyRotary, rmsNorm } from "./ops.js";
import {
  attend,
  decoderLayer,
  type LayerContext,
  recordingGradients,
  type SelfAttention,
  splitHeads,
} from "./textDecoder.js";

/**
 * The shape and the constant tables of a shared-prompt forward: `prompts` distinct prompts of
 * `promptLength` (left-padded) positions, and `rows` continuations of `continuationLength`
 * (right-padded) positions, row r continuing prompt `promptOfRow[r]`. The decoder's state is the
 * flat `[prompts·promptLength + rows·continuationLength, hidden]` rows: every prompt's positions,
 * then every continuation's.
 */
export interface SharedPromptTables {
  readonly prompts: number;
  readonly promptLength: number;
  readonly rows: number;
  readonly continuationLength: number;
  /** M-RoPE tables `[P, 1, Lp, headDim]` and the causal + padding mask `[P, 1, Lp, Lp]`. */
  readonly promptCos: tf.Tensor4D;
  readonly promptSin: tf.Tensor4D;
  readonly promptMask: tf.Tensor4D;
  /** `[R, 1, Lr, headDim]`, and the mask `[R, 1, Lr, Lp + Lr]` over the row's prompt and itself. */
  readonly continuationCos: tf.Tensor4D;
  readonly continuationSin: tf.Tensor4D;
  readonly continuationMask: tf.Tensor4D;
  /** int32 `[R]`: each row's prompt. */
  readonly promptOfRow: tf.Tensor1D;
}

/** The tables as the constant list a checkpointed segment saves, and back. */
const tableTensors = (tables: SharedPromptTables): tf.Tensor[] => [
  tables.promptCos,
  tables.promptSin,
  tables.promptMask,
  tables.continuationCos,
  tables.continuationSin,
  tables.continuationMask,
  tables.promptOfRow,
];

const withTensors = (tables: SharedPromptTables, tensors: ReadonlyArray<tf.Tensor>): SharedPromptTables => {
  const [promptCos, promptSin, promptMask, continuationCos, continuationSin, continuationMask, promptOfRow] =
    tensors as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor1D];
  return {
    ...tables,
    promptCos,
    promptSin,
    promptMask,
    continuationCos,
    continuationSin,
    continuationMask,
    promptOfRow,
  };
};

/**
 * Self-attention over the flat rows: q, k and v projected for every token at once (one GEMM per
 * weight, one transposed copy of the input), then the prompts attend over themselves and each
 * continuation over its prompt's keys/values (gathered per row: their gradient is the sum over
 * the rows sharing the prompt) followed by its own; the two contexts go through `o_proj` at once.
 */
const sharedAttention =
  (tables: SharedPromptTables): SelfAttention =>
  (context, prefix, x) => {
    const { numAttentionHeads: heads, numKeyValueHeads: kvHeads, headDim } = context.config.text;
    const { prompts, promptLength, rows, continuationLength } = tables;
    const promptTokens = prompts * promptLength;
    const continuationTokens = rows * continuationLength;
    const input = sharedInput(x);
    const project = (name: string, count: number) => {
      const projected = applyLinear(context.parameters, context.adapter, `${prefix}.${name}`, input);
      if (continuationTokens === 0) return [splitHeads(projected, prompts, promptLength, count, headDim)];
      const [promptPart, continuationPart] = tf.split(projected, [promptTokens, continuationTokens], 0);
      return [
        splitHeads(promptPart!, prompts, promptLength, count, headDim),
        splitHeads(continuationPart!, rows, continuationLength, count, headDim),
      ];
    };
    const [promptQuery, continuationQuery] = project("q_proj", heads);
    const [promptKeyRaw, continuationKeyRaw] = project("k_proj", kvHeads);
    const [promptValue, continuationValue] = project("v_proj", kvHeads) as tf.Tensor4D[];
    const promptKey = applyRotary(promptKeyRaw!, tables.promptCos, tables.promptSin) as tf.Tensor4D;
    const promptContext = attend(
      context.config,
      applyRotary(promptQuery!, tables.promptCos, tables.promptSin),
      promptKey,
      promptValue!,
      tables.promptMask,
    );
    const width = heads * headDim;
    let merged = tf.reshape(promptContext, [promptTokens, width]);
    if (continuationTokens > 0) {
      const key = tf.concat(
        [
          tf.gather(promptKey, tables.promptOfRow),
          applyRotary(continuationKeyRaw!, tables.continuationCos, tables.continuationSin),
        ],
        2,
      ) as tf.Tensor4D;
      const value = tf.concat(
        [tf.gather(promptValue!, tables.promptOfRow), continuationValue!],
        2,
      ) as tf.Tensor4D;
      const continuationContext = attend(
        context.config,
        applyRotary(continuationQuery!, tables.continuationCos, tables.continuationSin),
        key,
        value,
        tables.continuationMask,
      );
      merged = tf.concat([merged, tf.reshape(continuationContext, [continuationTokens, width])]);
    }
    return {
      output: applyLinear(context.parameters, context.adapter, `${prefix}.o_proj`, merged),
      key: promptKey,
      value: promptValue!,
    };
  };

/**
 * The text decoder over prompts shared by several rows: `embeds` are the flat `[P·Lp + R·Lr,
 * hidden]` input embeddings (prompts, then continuations; see {@link SharedPromptTables}). Every
 * per-token op (norms, projections, MLP) runs once over all of them; only the attention tells the
 * parts apart. Returns the flat hidden states after the final norm. Under a gradient tape with
 * `checkpoint`, each layer keeps only its flat input (both parts) and is recomputed in the
 * backward pass. The same numbers as running each row's `prompt ++ continuation` on its own, for
 * `P·Lp + R·Lr` tokens instead of `R·(Lp + Lr)`. Call inside `tf.tidy`.
 *
 * `layerInputs` (`embeds` then every layer's output, `L + 1` flat tensors) are these hidden states
 * already computed with the same weights (a rollout's): nothing is run forward — without a tape
 * the last one is normed and returned; with checkpointing each layer's tape node returns the next
 * one and recomputes the layer in the backward pass as usual. Gradients stop at `layerInputs[0]`.
 */
export const runSharedPromptDecoder = (
  parameters: ParameterMap,
  adapter: LinearAdapter | undefined,
  config: Qwen25VLConfig,
  tables: SharedPromptTables,
  embeds: tf.Tensor2D,
  options: { readonly checkpoint: boolean; readonly layerInputs?: ReadonlyArray<tf.Tensor2D> },
): tf.Tensor2D => {
  const context: LayerContext = { parameters, adapter, config };
  const layers = config.text.numHiddenLayers;
  const checkpointed =
    options.checkpoint && tapeRecording()
      ? segmentVariables(
          parameters,
          adapter,
          Array.from({ length: layers }, (_, index) => `model.layers.${index}`),
        )
      : undefined;
  const free = !recordingGradients();
  const precomputed = options.layerInputs;
  if (precomputed !== undefined && precomputed.length !== layers + 1)
    throw new Error(`layerInputs holds ${precomputed.length} states, the decoder needs ${layers + 1}`);
  if (precomputed !== undefined && checkpointed === undefined) {
    if (tapeRecording())
      throw new Error("precomputed layer inputs need activation checkpointing under a gradient tape");
    return rmsNorm(
      precomputed[layers]!,
      parameter(parameters, "model.norm.weight"),
      config.text.rmsNormEps,
    ) as tf.Tensor2D;
  }
  let x: tf.Tensor = precomputed?.[0] ?? embeds;
  for (let index = 0; index < layers; index++) {
    const current = x;
    if (checkpointed !== undefined) {
      // Only the layer's flat input (prompts and continuations) stays on the tape.
      x = checkpointSegment(
        (input, constants) =>
          tf.tidy(
            () => decoderLayer(context, index, input, sharedAttention(withTensors(tables, constants))).hidden,
          ),
        current,
        tableTensors(tables),
        checkpointed[index]!,
        adapter,
        precomputed?.[index + 1],
      );
      continue;
    }
    x = tf.tidy(() => decoderLayer(context, index, current, sharedAttention(tables)).hidden);
    if (free && current !== embeds) current.dispose();
  }
  return rmsNorm(x, parameter(parameters, "model.norm.weight"), config.text.rmsNormEps) as tf.Tensor2D;
};
