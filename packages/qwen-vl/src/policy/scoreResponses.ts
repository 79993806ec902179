import type { PolicyLogprobs } from "@apo-rl/core";
import { linearTokenLogprobs } from "@apo-rl/tensor/portable";
import * as tf from "@tensorflow/tfjs-core";
import type { GenerationPrompt } from "../generation/GenerationPrompt.js";
import { leftPad } from "../internal/generation/promptBatch.js";
import { responseLayout } from "../internal/policy/responseLayout.js";
import { sharedImages } from "../internal/policy/sharedImages.js";
import { distinctPrompts, sharedPrefixHidden } from "../internal/policy/sharedPrefixHidden.js";
import type { LinearAdapter } from "../model/LinearAdapter.js";
import type { Qwen25VLModel } from "../model/Qwen25VLModel.js";

/**
 * Options of {@link scoreResponses}.
 *
 * @since 0.1.0
 * @category policy
 */
export interface ScoreResponsesOptions {
  /** Divide the logits by this (use 1 for greedy rollouts). */
  readonly temperature: number;
  /** Left-padding id (masked out). */
  readonly padTokenId: number;
  /** Overrides the model's adapter; `null` scores the base weights; `undefined` keeps the model's. */
  readonly adapter?: LinearAdapter | null | undefined;
  /** Also return the per-token entropy of the tempered distribution. */
  readonly entropy: boolean;
  /** Tokens per chunk of `linearTokenLogprobs`. */
  readonly chunkSize?: number;
  /**
   * Run a prompt shared by several rows (the same prompt object) once, with or without a gradient
   * tape (default `true`); `false` runs every row's `prompt ++ response` whole.
   *
   * @since 0.2.0
   */
  readonly sharePrompts?: boolean;
  /**
   * The rows' decoder hidden states from sampling them with these same weights and adapter (an
   * on-policy rollout's, which a policy keeps under `retainForTraining`): per row its prompt's
   * `[L + 1, promptLength, hidden]` (the input embeddings, then each layer's output) and its own
   * `[L + 1, tokens − 1, hidden]` at every token but the last. No forward then runs: the log-probs
   * come from the last states, and under a gradient tape (which needs
   * `model.gradientCheckpointing`) each layer is recomputed from its state in the backward pass.
   * No gradient reaches the embeddings or the vision tower, so only for adapters (or weights)
   * inside the decoder layers. The caller keeps ownership.
   *
   * @since 0.2.0
   */
  readonly layerStates?: {
    readonly prompts: ReadonlyArray<tf.Tensor3D>;
    readonly rows: ReadonlyArray<tf.Tensor3D | undefined>;
  };
}

/** `[S·T]` values placed from a `[N]` token list (padding gets 0); differentiable through gather. */
const scatterRows = (values: tf.Tensor1D, scatter: Int32Array, rows: number, width: number): tf.Tensor2D =>
  tf.reshape(tf.gather(tf.concat([values, tf.zeros([1])]), tf.tensor1d(scatter, "int32")), [
    rows,
    width,
  ]) as tf.Tensor2D;

/**
 * The image part of the forward's input: every row's patches, or — when rows share a prompt's image
 * (the `n` rollouts of one request) — the vision tower run once per distinct image and its features
 * gathered for every row (differentiable: gradients of shared rows add up).
 */
const imageInput = (
  model: Qwen25VLModel,
  prompts: ReadonlyArray<GenerationPrompt>,
  adapter: { readonly adapter?: LinearAdapter | null },
) => {
  const images = sharedImages(prompts, model.config.vision.spatialMergeSize);
  if (images === undefined) return {};
  if (!images.repeated) return { pixelValues: images.pixelValues, imageGridThw: images.imageGridThw };
  const distinct = model.encodeImages(images.pixelValues, images.distinctGrids, adapter).imageEmbeds;
  const imageEmbeds = tf.gather(distinct, tf.tensor1d(images.featureRows, "int32")) as tf.Tensor2D;
  return { imageGridThw: images.imageGridThw, imageEmbeds };
};

/**
 * Rows that share a prompt (the `G` rollouts of a group) run that prompt once, under a gradient
 * tape too: see `sharedPrefixHidden`.
 */
const sharesPrompts = (prompts: ReadonlyArray<GenerationPrompt>, options: ScoreResponsesOptions): boolean =>
  options.sharePrompts !== false && distinctPrompts(prompts).distinct.length < prompts.length;

/**
 * Differentiable per-token log-probabilities `[S, T]` of each row's response given its prompt,
 * at `temperature`: one forward over the left-padded `prompt ++ response` rows (the vision tower
 * once per distinct image) — or, when rows share a prompt object (the `G` rollouts of a request),
 * each shared prompt run once and every row's response continuing from its keys and values, with
 * or without a gradient tape (same numbers and gradients up to float32 rounding, fewer tokens
 * through the decoder; `sharePrompts: false` turns it off) — then
 * `linearTokenLogprobs(h / T, W_lm, targets)` on the response positions only (the `[N, V]`
 * logits are never materialised at once). Runs in one `tf.tidy`: only the returned tensors
 * survive. This is what `policy.logprobs` calls, for token-level callers (benchmarks, custom loops).
 *
 * @since 0.1.0
 * @category policy
 */
export const scoreResponses = (
  model: Qwen25VLModel,
  prompts: ReadonlyArray<GenerationPrompt>,
  responses: ReadonlyArray<ReadonlyArray<number>>,
  options: ScoreResponsesOptions,
): PolicyLogprobs<tf.Tensor> => {
  const sequences = prompts.map((prompt, k) => [...Array.from(prompt.inputIds), ...responses[k]!]);
  const { inputIds, attentionMask } = leftPad(sequences, options.padTokenId);
  const length = inputIds[0]!.length;
  const layout = responseLayout(
    prompts.map((prompt) => prompt.inputIds.length),
    responses,
    length,
  );
  return tf.tidy(() => {
    const mask = tf.tensor2d(layout.mask, [layout.rows, layout.width]);
    if (layout.tokens === 0) {
      const zeros = tf.zeros([layout.rows, layout.width]);
      return {
        logp: zeros,
        mask,
        ...(options.entropy ? { entropy: tf.zeros([layout.rows, layout.width]) } : {}),
      };
    }
    const adapter = options.adapter === undefined ? {} : { adapter: options.adapter };
    const picked =
      options.layerStates !== undefined || sharesPrompts(prompts, options)
        ? sharedPrefixHidden(model, prompts, responses, options.padTokenId, adapter, options.layerStates)
        : tf.tidy(() => {
            const output = model.forward(
              { inputIds, attentionMask, ...imageInput(model, prompts, adapter) },
              adapter,
            );
            const hiddenSize = output.hiddenStates.shape[2];
            const flat = tf.reshape(output.hiddenStates, [-1, hiddenSize]) as tf.Tensor2D;
            return tf.gather(flat, tf.tensor1d(layout.hiddenRows, "int32")) as tf.Tensor2D;
          });
    const scaled =
      options.temperature === 1 ? picked : (tf.mul(picked, 1 / options.temperature) as tf.Tensor2D);
    const targets = tf.tensor1d(layout.targets, "int32");
    const weight = model.lmHeadWeight as tf.Tensor as tf.Tensor2D;
    // A frozen lm_head (LoRA, frozen tied embedding) skips the [V, H] weight gradient entirely.
    const weightGradient = !(weight instanceof tf.Variable) || weight.trainable;
    const chunk = {
      weightGradient,
      ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
    };
    if (options.entropy) {
      const result = linearTokenLogprobs(scaled, weight, targets, { ...chunk, entropy: true });
      return {
        logp: scatterRows(result.logprobs, layout.scatter, layout.rows, layout.width),
        mask,
        entropy: scatterRows(result.entropy, layout.scatter, layout.rows, layout.width),
      };
    }
    const logprobs = linearTokenLogprobs(scaled, weight, targets, chunk);
    return { logp: scatterRows(logprobs, layout.scatter, layout.rows, layout.width), mask };
  });
};
