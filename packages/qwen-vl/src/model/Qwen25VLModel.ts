import * as tf from "@tensorflow/tfjs-core";
import type { Qwen25VLConfig } from "../config/Qwen25VLConfig.js";
import { tapeRecording } from "../internal/model/activationCheckpoint.js";
import { applyLinear, parameter, projectRows } from "../internal/model/linear.js";
import { tidyStructured } from "../internal/model/ops.js";
import { runSharedPromptDecoder, type SharedPromptTables } from "../internal/model/sharedPromptDecoder.js";
import { decoderMask, mropeTables, runDecoder } from "../internal/model/textDecoder.js";
import { encodeVision } from "../internal/model/visionTower.js";
import { batchShapeProblem } from "../internal/tokenIdShape.js";
import { ForwardInputError, ImageInputError } from "./errors.js";
import { getRopeIndex } from "./getRopeIndex.js";
import type { LinearAdapter } from "./LinearAdapter.js";
import type { Qwen25VLCache } from "./Qwen25VLCache.js";
import type { Qwen25VLParts } from "./Qwen25VLParts.js";

/**
 * Token ids or a mask: rows of equal length (`[B][S]`), or an int tensor `[B, S]`.
 *
 * @since 0.1.0
 * @category model
 */
export type TokenMatrix = ReadonlyArray<ReadonlyArray<number>> | tf.Tensor;

/**
 * Input of {@link Qwen25VLModel.forward}. Batches are left-padded; `attentionMask` marks the real
 * tokens (all ones when absent). `pixelValues` holds the patches of every image of the batch in
 * reading order (`[Σ t·h·w, C·2·14·14]`, as the processor flattens them) and `imageGridThw` one
 * `[t, h, w]` row per image. With a cache, `inputIds` are the new tokens only, and the mask is
 * either theirs (`[B][S]`) or the whole sequence's (`[B][cache.length + S]`).
 *
 * @since 0.1.0
 * @category model
 */
export interface Qwen25VLInput {
  readonly inputIds: TokenMatrix;
  readonly attentionMask?: TokenMatrix;
  readonly pixelValues?: tf.Tensor2D | Float32Array;
  readonly imageGridThw?: ReadonlyArray<ReadonlyArray<number>> | tf.Tensor;
  /**
   * Image features computed beforehand ({@link Qwen25VLModel.encodeImages}'s `imageEmbeds`, one row
   * per `<|image_pad|>` token in reading order), instead of `pixelValues` — e.g. once per prompt
   * for all of its rollouts. `imageGridThw` is still needed (for the M-RoPE positions). The caller
   * keeps ownership.
   */
  readonly imageEmbeds?: tf.Tensor2D;
}

/**
 * Options of {@link Qwen25VLModel.forward}.
 *
 * @since 0.1.0
 * @category model
 */
export interface Qwen25VLForwardOptions {
  /** `true`: logits `[B, S, vocab]`; `"last"`: only the last position's, `[B, vocab]`. */
  readonly logits?: boolean | "last";
  /** `true` starts a cache (prefill) and returns it; a cache continues it and returns the extended one. */
  readonly cache?: boolean | Qwen25VLCache;
  /** Overrides {@link Qwen25VLModel.linearAdapter} for this call; `null` runs the base weights. */
  readonly adapter?: LinearAdapter | null;
  /** Also return the input embeddings and each decoder layer's output (before the final norm). */
  readonly layerStates?: boolean;
  /**
   * With `layerStates`: keep only the first this many rows of each state (copied as the forward
   * goes, so the other rows' states are freed layer by layer). Default: every row.
   *
   * @since 0.2.0
   */
  readonly layerStateRows?: number;
}

/**
 * Output of {@link Qwen25VLModel.forward}. The caller owns (and disposes) every tensor.
 *
 * @since 0.1.0
 * @category model
 */
export interface Qwen25VLOutput {
  /** After the final RMSNorm, `[B, S, hidden]`: multiply by {@link Qwen25VLModel.lmHeadWeight}ᵀ for logits. */
  readonly hiddenStates: tf.Tensor3D;
  readonly logits?: tf.Tensor;
  /** Per batch row: `max position + 1 − S` (0 for text only); decoding positions are `index + delta`. */
  readonly ropeDeltas: ReadonlyArray<number>;
  /** M-RoPE positions used, `[3][B][S]` (rows t, h, w). */
  readonly positionIds: ReadonlyArray<ReadonlyArray<ReadonlyArray<number>>>;
  readonly cache?: Qwen25VLCache;
  readonly layerStates?: ReadonlyArray<tf.Tensor3D>;
}

/**
 * Input of {@link Qwen25VLModel.forwardSharedPrompts}: rows that continue a few distinct prompts
 * (the `G` rollouts of a group). Row r is `prompts[promptOfRow[r]] ++ continuationIds[r]`.
 *
 * @since 0.2.0
 * @category model
 */
export interface Qwen25VLSharedPromptInput {
  /** The distinct prompts, left-padded `[P][Lp]` (their images as in {@link Qwen25VLInput}). */
  readonly prompts: Qwen25VLInput;
  /** Each row's tokens after its prompt, right-padded `[R][Lr]`, `Lr ≥ 1`. */
  readonly continuationIds: ReadonlyArray<ReadonlyArray<number>>;
  /** `[R][Lr]`: 1 for the row's tokens (a prefix), 0 for its right padding; all ones when absent. */
  readonly continuationMask?: ReadonlyArray<ReadonlyArray<number>>;
  /** `[R]`: which prompt (an index into `prompts`) each row continues. */
  readonly promptOfRow: ReadonlyArray<number>;
}

/**
 * Output of {@link Qwen25VLModel.forwardSharedPrompts}, after the final RMSNorm. The caller owns
 * both tensors.
 *
 * @since 0.2.0
 * @category model
 */
export interface Qwen25VLSharedPromptOutput {
  /** `[P, Lp, hidden]`: position `Lp − 1` of prompt p predicts the first token of its rows. */
  readonly promptHidden: tf.Tensor3D;
  /** `[R, Lr, hidden]`: position s of row r predicts its continuation token s + 1. */
  readonly continuationHidden: tf.Tensor3D;
}

/**
 * Output of {@link Qwen25VLModel.encodeImages}; intermediates (window order) on request.
 *
 * @since 0.1.0
 * @category model
 */
export interface Qwen25VLVisionOutput {
  /** `[Σ t·h·w / merge², hidden]`: one row per `<|image_pad|>` token, in reading order. */
  readonly imageEmbeds: tf.Tensor2D;
  readonly patchEmbeds?: tf.Tensor2D;
  readonly blockOutputs?: ReadonlyArray<tf.Tensor2D>;
  readonly mergerOutput?: tf.Tensor2D;
}

const toRows = (value: TokenMatrix, field: string): number[][] => {
  if (!(value instanceof tf.Tensor)) return value.map((row) => [...row]);
  if (value.rank !== 2)
    throw new ForwardInputError({ field, reason: `expected a rank-2 tensor, got rank ${value.rank}` });
  return value.arraySync() as number[][];
};

const checkRectangular = (
  rows: ReadonlyArray<ReadonlyArray<number>>,
  field: string,
  width?: number,
): void => {
  if (rows.length === 0) throw new ForwardInputError({ field, reason: "empty batch" });
  const expected = width ?? rows[0]!.length;
  rows.forEach((row, index) => {
    if (row.length !== expected) {
      throw new ForwardInputError({
        field: `${field}[${index}]`,
        reason: `length ${row.length}, expected ${expected}`,
      });
    }
  });
};

const checkTokenIds = (rows: ReadonlyArray<ReadonlyArray<number>>, vocabSize: number): void => {
  rows.forEach((row, b) => {
    row.forEach((id, s) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new ForwardInputError({
          field: `inputIds[${b}][${s}]`,
          reason: `token id ${id} is outside 0…${vocabSize - 1}`,
        });
      }
    });
  });
};

/**
 * Qwen2.5-VL in TensorFlow.js: the vision tower, the text decoder with M-RoPE, and the LM head.
 * Weights are `tf.Variable`s held in {@link Qwen25VLModel.parameters} under their checkpoint names
 * (`model.layers.0.self_attn.q_proj.weight`, `visual.blocks.0.attn.qkv.bias`, …; the patch
 * embedding as a `[hidden, C·2·14·14]` matrix). Every linear layer goes through one function,
 * {@link Qwen25VLModel.linear}, which calls {@link Qwen25VLModel.linearAdapter} (the LoRA hook).
 * Create one with `loadQwen25VL` or `initQwen25VL`.
 *
 * @since 0.1.0
 * @category model
 */
export class Qwen25VLModel {
  /** Applied after every linear layer unless a forward passes `adapter`. */
  linearAdapter: LinearAdapter | undefined = undefined;

  /**
   * Activation checkpointing (on by default). While a gradient is recorded, each decoder layer and
   * each vision block keeps only its input on the tape and recomputes its forward pass in the
   * backward pass: the saved activations drop from every layer's intermediates to one `[tokens,
   * hidden]` tensor per layer, for about one more forward pass of compute (see
   * docs/qwen-vl-model.md, "Memory model"). Same gradients either way. Forwards without a gradient
   * (generation, scoring) are unaffected. It needs an adapter that lists its
   * {@link LinearAdapter.variables} (LoRA does); layers under another adapter keep their activations.
   *
   * @since 0.2.0
   */
  gradientCheckpointing = true;

  constructor(
    readonly config: Qwen25VLConfig,
    /** Canonical weight name → variable. A tied LM head is not listed twice. */
    readonly parameters: ReadonlyMap<string, tf.Variable>,
    /** Which halves were loaded: `"text"` has no vision tower, `"vision"` no decoder. */
    readonly parts: Qwen25VLParts,
  ) {}

  /** The `[vocab, hidden]` LM head: `lm_head.weight`, or the token embedding when tied. */
  get lmHeadWeight(): tf.Variable {
    return this.parameters.get("lm_head.weight") ?? parameter(this.parameters, "model.embed_tokens.weight");
  }

  /** `x·Wᵀ + b` of module `moduleName` (e.g. `model.layers.0.mlp.up_proj`), then the adapter hook. */
  linear(x: tf.Tensor, moduleName: string, adapter: LinearAdapter | null = null): tf.Tensor {
    return applyLinear(this.parameters, adapter ?? this.linearAdapter, moduleName, x);
  }

  /** Run the vision tower on flattened patches; `intermediates` adds the debug outputs. */
  encodeImages(
    pixelValues: tf.Tensor2D | Float32Array,
    imageGridThw: ReadonlyArray<ReadonlyArray<number>> | tf.Tensor,
    options: { readonly intermediates?: boolean; readonly adapter?: LinearAdapter | null } = {},
  ): Qwen25VLVisionOutput {
    if (this.parts === "text")
      throw new ForwardInputError({ field: "pixelValues", reason: "the model has no vision tower" });
    const grids = toRows(imageGridThw, "imageGridThw");
    const pixels = this.pixelTensor(pixelValues, grids);
    try {
      const adapter = options.adapter === undefined ? this.linearAdapter : (options.adapter ?? undefined);
      return encodeVision(
        this.parameters,
        adapter,
        this.config,
        pixels,
        grids,
        options.intermediates === true,
        this.gradientCheckpointing,
      );
    } finally {
      if (pixels !== pixelValues) pixels.dispose();
    }
  }

  private pixelTensor(
    pixelValues: tf.Tensor2D | Float32Array,
    grids: ReadonlyArray<ReadonlyArray<number>>,
  ): tf.Tensor2D {
    const v = this.config.vision;
    const columns = v.inChannels * v.temporalPatchSize * v.patchSize * v.patchSize;
    const patches = grids.reduce((sum, g) => sum + g[0]! * g[1]! * g[2]!, 0);
    grids.forEach((g, index) => {
      if (g.length !== 3 || g[1]! % v.spatialMergeSize !== 0 || g[2]! % v.spatialMergeSize !== 0) {
        throw new ImageInputError({
          row: -1,
          reason: `image_grid_thw[${index}] = [${g.join(", ")}] is not a mergeable grid`,
        });
      }
    });
    const shape =
      pixelValues instanceof Float32Array ? [pixelValues.length / columns, columns] : pixelValues.shape;
    if (shape[0] !== patches || shape[1] !== columns) {
      throw new ImageInputError({
        row: -1,
        reason: `pixelValues is [${shape.join(", ")}] but image_grid_thw implies [${patches}, ${columns}]`,
      });
    }
    return pixelValues instanceof Float32Array ? tf.tensor2d(pixelValues, [patches, columns]) : pixelValues;
  }

  /**
   * The forward pass. Without a cache: image features spliced at `<|image_pad|>` tokens, M-RoPE
   * positions from {@link getRopeIndex}, causal + padding attention. With a cache: the new tokens
   * get positions `cache.length + i + ropeDelta` and attend to the cached keys.
   */
  forward(input: Qwen25VLInput, options: Qwen25VLForwardOptions = {}): Qwen25VLOutput {
    if (this.parts === "vision")
      throw new ForwardInputError({ field: "inputIds", reason: "the model has no text decoder" });
    const shape = input.inputIds instanceof tf.Tensor ? undefined : batchShapeProblem(input.inputIds);
    if (shape !== undefined) throw new ForwardInputError({ field: "inputIds", reason: shape });
    const ids = toRows(input.inputIds, "inputIds");
    checkRectangular(ids, "inputIds");
    checkTokenIds(ids, this.config.text.vocabSize);
    const past = typeof options.cache === "object" ? options.cache : undefined;
    const { newMask, fullMask } = this.masks(ids, input.attentionMask, past);
    const grids = input.imageGridThw === undefined ? [] : toRows(input.imageGridThw, "imageGridThw");
    if (
      past !== undefined &&
      (input.pixelValues !== undefined || input.imageEmbeds !== undefined) &&
      past.length > 0
    ) {
      throw new ForwardInputError({
        field: "pixelValues",
        reason: "images can only be given at prefill (empty cache)",
      });
    }
    const rope =
      past === undefined ? getRopeIndex(ids, grids, this.config, newMask) : this.decodePositions(past, ids);
    const adapter = options.adapter === undefined ? this.linearAdapter : (options.adapter ?? undefined);
    if (input.imageEmbeds !== undefined && input.pixelValues !== undefined) {
      throw new ForwardInputError({
        field: "imageEmbeds",
        reason: "give pixelValues or precomputed imageEmbeds, not both",
      });
    }
    const computed =
      input.pixelValues === undefined ? undefined : this.imageFeatures(input.pixelValues, grids, adapter);
    try {
      return this.decode(ids, rope, fullMask, past, input.imageEmbeds ?? computed, adapter, options);
    } finally {
      computed?.dispose();
    }
  }

  /**
   * The forward of rows that share prompts, differentiable: each distinct prompt runs once
   * (`[P, Lp]`), and each row's continuation (`[R, Lr]`) attends to its prompt's keys and values
   * followed by its own. Positions (M-RoPE for image prompts) are those of the row
   * `prompt ++ continuation` run alone, so the hidden states equal {@link Qwen25VLModel.forward}'s
   * over the left-padded whole rows (up to float32 rounding), for `P·Lp + R·Lr` decoder tokens
   * instead of `R·(Lp + Lr)`. Under a gradient tape a prompt's gradient is the sum over its rows;
   * with {@link Qwen25VLModel.gradientCheckpointing} each layer keeps only its input (prompts and
   * continuations together) and recomputes both in the backward pass. LoRA dropout draws one mask
   * for a shared prompt's tokens, not one per row.
   *
   * `layerInputs` are the decoder's hidden states of exactly this input already computed with the
   * same weights and adapter (a rollout's): `L + 1` tensors `[P·Lp + R·Lr, hidden]` (the input
   * embeddings, then each layer's output; prompts then continuations, padding positions any finite
   * value). Nothing then runs forward: without a gradient tape the last one is normed; under a tape
   * it needs {@link Qwen25VLModel.gradientCheckpointing}, each layer is recomputed from its given
   * input in the backward pass, and no gradient reaches the embeddings or the vision tower.
   *
   * @since 0.2.0
   */
  forwardSharedPrompts(
    input: Qwen25VLSharedPromptInput,
    options: {
      readonly adapter?: LinearAdapter | null;
      readonly layerInputs?: ReadonlyArray<tf.Tensor2D>;
    } = {},
  ): Qwen25VLSharedPromptOutput {
    if (this.parts === "vision")
      throw new ForwardInputError({ field: "prompts.inputIds", reason: "the model has no text decoder" });
    const prompts = input.prompts;
    const shape = prompts.inputIds instanceof tf.Tensor ? undefined : batchShapeProblem(prompts.inputIds);
    if (shape !== undefined) throw new ForwardInputError({ field: "prompts.inputIds", reason: shape });
    const promptIds = toRows(prompts.inputIds, "prompts.inputIds");
    checkRectangular(promptIds, "prompts.inputIds");
    checkTokenIds(promptIds, this.config.text.vocabSize);
    const { newMask: promptMask } = this.masks(promptIds, prompts.attentionMask, undefined);
    const continuationIds = input.continuationIds.map((row) => [...row]);
    checkRectangular(continuationIds, "continuationIds");
    checkTokenIds(continuationIds, this.config.text.vocabSize);
    const [count, promptLength] = [promptIds.length, promptIds[0]!.length];
    const [rows, continuationLength] = [continuationIds.length, continuationIds[0]!.length];
    if (continuationLength === 0)
      throw new ForwardInputError({
        field: "continuationIds",
        reason: "continuations need at least one token",
      });
    const continuationMask =
      input.continuationMask?.map((row) => [...row]) ?? continuationIds.map((row) => row.map(() => 1));
    checkRectangular(continuationMask, "continuationMask", continuationLength);
    if (continuationMask.length !== rows)
      throw new ForwardInputError({
        field: "continuationMask",
        reason: `${continuationMask.length} rows, continuationIds has ${rows}`,
      });
    if (input.promptOfRow.length !== rows)
      throw new ForwardInputError({
        field: "promptOfRow",
        reason: `${input.promptOfRow.length} entries, continuationIds has ${rows} rows`,
      });
    input.promptOfRow.forEach((prompt, row) => {
      if (!Number.isInteger(prompt) || prompt < 0 || prompt >= count)
        throw new ForwardInputError({
          field: `promptOfRow[${row}]`,
          reason: `prompt ${prompt} is outside 0…${count - 1}`,
        });
    });
    if (prompts.imageEmbeds !== undefined && prompts.pixelValues !== undefined) {
      throw new ForwardInputError({
        field: "prompts.imageEmbeds",
        reason: "give pixelValues or precomputed imageEmbeds, not both",
      });
    }
    const grids = prompts.imageGridThw === undefined ? [] : toRows(prompts.imageGridThw, "imageGridThw");
    const rope = getRopeIndex(promptIds, grids, this.config, promptMask);
    // A continuation token sits where it would in the row `prompt ++ continuation` run alone.
    const positions = continuationIds.map((row, r) =>
      row.map((_, s) => promptLength + s + rope.ropeDeltas[input.promptOfRow[r]!]!),
    );
    const fullMask = continuationMask.map((row, r) => [...promptMask[input.promptOfRow[r]!]!, ...row]);
    const adapter = options.adapter === undefined ? this.linearAdapter : (options.adapter ?? undefined);
    const { headDim, hiddenSize } = this.config.text;
    const layerInputs = options.layerInputs;
    if (layerInputs !== undefined) {
      const tokens = count * promptLength + rows * continuationLength;
      if (layerInputs.length !== this.config.text.numHiddenLayers + 1)
        throw new ForwardInputError({
          field: "layerInputs",
          reason: `${layerInputs.length} states, the decoder needs ${this.config.text.numHiddenLayers + 1}`,
        });
      layerInputs.forEach((state, index) => {
        if (state.shape[0] !== tokens || state.shape[1] !== hiddenSize)
          throw new ForwardInputError({
            field: `layerInputs[${index}]`,
            reason: `shape [${state.shape.join(", ")}], expected [${tokens}, ${hiddenSize}]`,
          });
      });
      if (tapeRecording() && !this.gradientCheckpointing)
        throw new ForwardInputError({
          field: "layerInputs",
          reason: "under a gradient tape, precomputed layer inputs need gradientCheckpointing",
        });
    }
    const computed =
      prompts.pixelValues === undefined || layerInputs !== undefined
        ? undefined
        : this.imageFeatures(prompts.pixelValues, grids, adapter);
    try {
      return tidyStructured(() => {
        const promptTables = mropeTables(rope.positionIds, this.config);
        const continuationTables = mropeTables([positions, positions, positions], this.config);
        const tables: SharedPromptTables = {
          prompts: count,
          promptLength,
          rows,
          continuationLength,
          promptCos: tf.tensor4d(promptTables.cos, [count, 1, promptLength, headDim]),
          promptSin: tf.tensor4d(promptTables.sin, [count, 1, promptLength, headDim]),
          promptMask: tf.tensor4d(decoderMask(promptMask, 0, promptLength), [
            count,
            1,
            promptLength,
            promptLength,
          ]),
          continuationCos: tf.tensor4d(continuationTables.cos, [rows, 1, continuationLength, headDim]),
          continuationSin: tf.tensor4d(continuationTables.sin, [rows, 1, continuationLength, headDim]),
          continuationMask: tf.tensor4d(decoderMask(fullMask, promptLength, continuationLength), [
            rows,
            1,
            continuationLength,
            promptLength + continuationLength,
          ]),
          promptOfRow: tf.tensor1d(input.promptOfRow as number[], "int32"),
        };
        const embeds =
          layerInputs?.[0] ??
          (tf.concat([
            tf.reshape(this.embed(promptIds, prompts.imageEmbeds ?? computed), [-1, hiddenSize]),
            tf.reshape(this.embed(continuationIds, undefined), [-1, hiddenSize]),
          ]) as tf.Tensor2D);
        const hidden = runSharedPromptDecoder(this.parameters, adapter, this.config, tables, embeds, {
          checkpoint: this.gradientCheckpointing,
          ...(layerInputs === undefined ? {} : { layerInputs }),
        });
        const [promptPart, continuationPart] = tf.split(hidden, [
          count * promptLength,
          rows * continuationLength,
        ]);
        return {
          promptHidden: tf.reshape(promptPart!, [count, promptLength, hiddenSize]) as tf.Tensor3D,
          continuationHidden: tf.reshape(continuationPart!, [
            rows,
            continuationLength,
            hiddenSize,
          ]) as tf.Tensor3D,
        };
      });
    } finally {
      computed?.dispose();
    }
  }

  private masks(ids: number[][], mask: TokenMatrix | undefined, past: Qwen25VLCache | undefined) {
    const length = ids[0]!.length;
    const pastLength = past?.length ?? 0;
    if (past !== undefined && past.batchSize !== ids.length) {
      throw new ForwardInputError({
        field: "cache",
        reason: `cache holds ${past.batchSize} rows, input has ${ids.length}`,
      });
    }
    const given = mask === undefined ? ids.map((row) => row.map(() => 1)) : toRows(mask, "attentionMask");
    if (given.length !== ids.length) {
      throw new ForwardInputError({
        field: "attentionMask",
        reason: `${given.length} rows, inputIds has ${ids.length}`,
      });
    }
    const whole = given[0]!.length === pastLength + length && pastLength > 0;
    checkRectangular(given, "attentionMask", whole ? pastLength + length : length);
    const newMask = whole ? given.map((row) => row.slice(pastLength)) : given;
    const fullMask =
      whole || past === undefined ? given : given.map((row, b) => [...past.attentionMask[b]!, ...row]);
    return { newMask, fullMask };
  }

  private decodePositions(past: Qwen25VLCache, ids: number[][]) {
    const rows = ids.map((row, b) => row.map((_, s) => past.length + s + past.ropeDeltas[b]!));
    return { positionIds: [rows, rows, rows], ropeDeltas: past.ropeDeltas };
  }

  private imageFeatures(
    pixelValues: tf.Tensor2D | Float32Array,
    grids: ReadonlyArray<ReadonlyArray<number>>,
    adapter: LinearAdapter | undefined,
  ): tf.Tensor2D {
    return this.encodeImages(pixelValues, grids, { adapter: adapter ?? null }).imageEmbeds;
  }

  private embed(ids: number[][], imageEmbeds: tf.Tensor2D | undefined): tf.Tensor3D {
    const [batch, length] = [ids.length, ids[0]!.length];
    const hidden = this.config.text.hiddenSize;
    const flatIds = tf.tensor1d(ids.flat(), "int32");
    const embeds: tf.Tensor = tf.gather(
      parameter(this.parameters, "model.embed_tokens.weight") as tf.Tensor,
      flatIds,
    );
    const imageToken = this.config.tokens.imageTokenId;
    const isImage = ids.flat().map((id) => id === imageToken);
    const count = isImage.filter(Boolean).length;
    const rows = imageEmbeds?.shape[0] ?? 0;
    if (count !== rows) {
      throw new ImageInputError({
        row: -1,
        reason: `${count} <|image_pad|> tokens but ${rows} image feature rows`,
      });
    }
    if (imageEmbeds === undefined) return tf.reshape(embeds, [batch, length, hidden]);
    let next = 0;
    const source = tf.tensor1d(
      isImage.map((image) => (image ? next++ : 0)),
      "int32",
    );
    const condition = tf.broadcastTo(tf.tensor2d(isImage, [isImage.length, 1], "bool"), [
      isImage.length,
      hidden,
    ]);
    const spliced = tf.where(condition, tf.gather(imageEmbeds, source), embeds);
    return tf.reshape(spliced, [batch, length, hidden]);
  }

  private decode(
    ids: number[][],
    rope: {
      positionIds: ReadonlyArray<ReadonlyArray<ReadonlyArray<number>>>;
      ropeDeltas: ReadonlyArray<number>;
    },
    fullMask: ReadonlyArray<ReadonlyArray<number>>,
    past: Qwen25VLCache | undefined,
    imageEmbeds: tf.Tensor2D | undefined,
    adapter: LinearAdapter | undefined,
    options: Qwen25VLForwardOptions,
  ): Qwen25VLOutput {
    const [batch, length] = [ids.length, ids[0]!.length];
    const pastLength = past?.length ?? 0;
    const { headDim } = this.config.text;
    const tables = mropeTables(rope.positionIds, this.config);
    const keepCache = options.cache !== undefined && options.cache !== false;
    const result = tidyStructured(() => {
      const decoded = runDecoder(
        this.parameters,
        adapter,
        this.config,
        {
          embeds: this.embed(ids, imageEmbeds),
          cos: tf.tensor4d(tables.cos, [batch, 1, length, headDim]),
          sin: tf.tensor4d(tables.sin, [batch, 1, length, headDim]),
          mask: tf.tensor4d(decoderMask(fullMask, pastLength, length), [
            batch,
            1,
            length,
            pastLength + length,
          ]),
          past: past?.layers,
        },
        {
          keepCache,
          layerStates: options.layerStates === true,
          ...(options.layerStateRows === undefined ? {} : { layerStateRows: options.layerStateRows }),
          checkpoint: this.gradientCheckpointing,
        },
      );
      return { ...decoded, logits: this.logits(decoded.hidden, options.logits) };
    });
    const cache: Qwen25VLCache | undefined = keepCache
      ? {
          length: pastLength + length,
          batchSize: batch,
          attentionMask: fullMask,
          ropeDeltas: rope.ropeDeltas,
          layers: result.cache,
        }
      : undefined;
    return {
      hiddenStates: result.hidden,
      ropeDeltas: rope.ropeDeltas,
      positionIds: rope.positionIds,
      ...(result.logits === undefined ? {} : { logits: result.logits }),
      ...(cache === undefined ? {} : { cache }),
      ...(options.layerStates === true ? { layerStates: result.layerStates } : {}),
    };
  }

  private logits(hidden: tf.Tensor3D, mode: boolean | "last" | undefined): tf.Tensor | undefined {
    if (mode === undefined || mode === false) return undefined;
    const [batch, length, size] = hidden.shape;
    const rows = mode === "last" ? tf.slice(hidden, [0, length - 1, 0], [batch, 1, size]) : hidden;
    const product = projectRows(
      tf.reshape(rows, [-1, size]) as tf.Tensor2D,
      this.lmHeadWeight as tf.Tensor as tf.Tensor2D,
    );
    return mode === "last" ? product : tf.reshape(product, [batch, length, -1]);
  }

  /** Release every weight. */
  dispose(): void {
    for (const variable of this.parameters.values()) variable.dispose();
  }
}
