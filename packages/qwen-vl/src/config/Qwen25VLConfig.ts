import { toInvalidInput } from "@apo-rl/core";
import { Result, Schema } from "effect";

const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0));
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));
const PositiveNumber = Schema.Finite.check(Schema.isGreaterThan(0));

const RopeScaling = Schema.Struct({
  type: Schema.optionalKey(Schema.String),
  rope_type: Schema.optionalKey(Schema.String),
  mrope_section: Schema.Array(PositiveInt),
});

const TextFields = {
  vocab_size: Schema.optionalKey(PositiveInt),
  hidden_size: Schema.optionalKey(PositiveInt),
  intermediate_size: Schema.optionalKey(PositiveInt),
  num_hidden_layers: Schema.optionalKey(PositiveInt),
  num_attention_heads: Schema.optionalKey(PositiveInt),
  num_key_value_heads: Schema.optionalKey(PositiveInt),
  hidden_act: Schema.optionalKey(Schema.Literal("silu")),
  rms_norm_eps: Schema.optionalKey(PositiveNumber),
  rope_theta: Schema.optionalKey(PositiveNumber),
  rope_scaling: Schema.optionalKey(Schema.NullOr(RopeScaling)),
  rope_parameters: Schema.optionalKey(
    Schema.Struct({
      rope_type: Schema.optionalKey(Schema.String),
      rope_theta: Schema.optionalKey(PositiveNumber),
      mrope_section: Schema.optionalKey(Schema.Array(PositiveInt)),
    }),
  ),
  max_position_embeddings: Schema.optionalKey(PositiveInt),
  tie_word_embeddings: Schema.optionalKey(Schema.Boolean),
  use_sliding_window: Schema.optionalKey(Schema.Boolean),
  image_token_id: Schema.optionalKey(NonNegativeInt),
  video_token_id: Schema.optionalKey(NonNegativeInt),
  vision_start_token_id: Schema.optionalKey(NonNegativeInt),
  vision_end_token_id: Schema.optionalKey(NonNegativeInt),
  bos_token_id: Schema.optionalKey(Schema.NullOr(NonNegativeInt)),
  eos_token_id: Schema.optionalKey(
    Schema.NullOr(Schema.Union([NonNegativeInt, Schema.Array(NonNegativeInt)])),
  ),
};

const VisionFields = Schema.Struct({
  depth: Schema.optionalKey(PositiveInt),
  hidden_size: Schema.optionalKey(PositiveInt),
  embed_dim: Schema.optionalKey(PositiveInt),
  intermediate_size: Schema.optionalKey(PositiveInt),
  num_heads: Schema.optionalKey(PositiveInt),
  hidden_act: Schema.optionalKey(Schema.Literal("silu")),
  in_channels: Schema.optionalKey(PositiveInt),
  in_chans: Schema.optionalKey(PositiveInt),
  patch_size: Schema.optionalKey(PositiveInt),
  spatial_patch_size: Schema.optionalKey(PositiveInt),
  temporal_patch_size: Schema.optionalKey(PositiveInt),
  spatial_merge_size: Schema.optionalKey(PositiveInt),
  window_size: Schema.optionalKey(PositiveInt),
  fullatt_block_indexes: Schema.optionalKey(Schema.Array(NonNegativeInt)),
  out_hidden_size: Schema.optionalKey(PositiveInt),
  tokens_per_second: Schema.optionalKey(Schema.Finite),
});

/**
 * The fields of a Hugging Face `config.json` for Qwen2.5-VL that this package reads. Every other
 * key is ignored. Text fields may sit at the top level or in a nested `text_config`.
 *
 * @since 0.1.0
 * @category config
 */
export const Qwen25VLConfigJson = Schema.Struct({
  ...TextFields,
  model_type: Schema.optionalKey(Schema.String),
  text_config: Schema.optionalKey(Schema.Struct(TextFields)),
  vision_config: Schema.optionalKey(VisionFields),
});

/**
 * @since 0.1.0
 * @category config
 */
export type Qwen25VLConfigJson = typeof Qwen25VLConfigJson.Type;

/**
 * Text decoder settings (camel-cased, defaults resolved).
 *
 * @since 0.1.0
 * @category config
 */
export interface Qwen25VLTextConfig {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numHiddenLayers: number;
  readonly numAttentionHeads: number;
  readonly numKeyValueHeads: number;
  /** `hiddenSize / numAttentionHeads`. */
  readonly headDim: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  /** Frequencies per position row (t, h, w); sums to `headDim / 2`. */
  readonly mropeSection: readonly [number, number, number];
  readonly tieWordEmbeddings: boolean;
  readonly maxPositionEmbeddings: number;
}

/**
 * Vision tower settings (camel-cased, class defaults applied where the file omits a field).
 *
 * @since 0.1.0
 * @category config
 */
export interface Qwen25VLVisionConfig {
  readonly depth: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numHeads: number;
  readonly inChannels: number;
  readonly patchSize: number;
  readonly temporalPatchSize: number;
  readonly spatialMergeSize: number;
  /** Window side in pixels (112 in real checkpoints). */
  readonly windowSize: number;
  readonly fullattBlockIndexes: ReadonlyArray<number>;
  /** Width of the merger output; equals the text `hiddenSize`. */
  readonly outHiddenSize: number;
  readonly tokensPerSecond: number;
}

/**
 * Special token ids the model itself needs.
 *
 * @since 0.1.0
 * @category config
 */
export interface Qwen25VLTokenIds {
  readonly imageTokenId: number;
  readonly videoTokenId: number;
  readonly visionStartTokenId: number;
  readonly visionEndTokenId: number;
  readonly bosTokenId: number | undefined;
  readonly eosTokenIds: ReadonlyArray<number>;
}

/**
 * A resolved Qwen2.5-VL configuration.
 *
 * @since 0.1.0
 * @category config
 */
export interface Qwen25VLConfig {
  readonly text: Qwen25VLTextConfig;
  readonly vision: Qwen25VLVisionConfig;
  readonly tokens: Qwen25VLTokenIds;
}

/**
 * Class defaults of the vision tower for fields a `config.json` omits, except `hiddenSize` and
 * `tokensPerSecond`, which use the values of every real checkpoint (1280 and 2) rather than the
 * class defaults (3584 and 4).
 *
 * @since 0.1.0
 * @category config
 */
export const visionDefaults: Omit<Qwen25VLVisionConfig, "outHiddenSize"> = {
  depth: 32,
  hiddenSize: 1280,
  intermediateSize: 3420,
  numHeads: 16,
  inChannels: 3,
  patchSize: 14,
  temporalPatchSize: 2,
  spatialMergeSize: 2,
  windowSize: 112,
  fullattBlockIndexes: [7, 15, 23, 31],
  tokensPerSecond: 2,
};

/**
 * Fields a checkpoint's `config.json` must set (read with `requireModelFields`): they fix the
 * weights' shapes or change the outputs, and `transformers` always writes them. Hugging Face's
 * class defaults for them are the 72B shape and `rms_norm_eps` 1e-5, which no real checkpoint uses.
 * `rope_theta` may come from `rope_parameters` (transformers 5) instead.
 *
 * @since 0.1.0
 * @category config
 */
export const REQUIRED_TEXT_FIELDS = [
  "vocab_size",
  "hidden_size",
  "intermediate_size",
  "num_hidden_layers",
  "num_attention_heads",
  "num_key_value_heads",
  "rms_norm_eps",
  "rope_theta",
] as const;

/**
 * Defaults of Hugging Face's `Qwen2_5_VLConfig` / `Qwen2_5_VLTextConfig` that apply when a
 * checkpoint's `config.json` (read with `requireModelFields`) omits the field: the special token
 * ids (each must then lie inside the vocabulary), `max_position_embeddings` and
 * `tie_word_embeddings`. The vision fields take {@link visionDefaults}.
 *
 * @since 0.1.0
 * @category config
 */
export const huggingFaceDefaults = {
  image_token_id: 151655,
  video_token_id: 151656,
  vision_start_token_id: 151652,
  vision_end_token_id: 151653,
  max_position_embeddings: 32768,
  tie_word_embeddings: false,
} as const;

/**
 * Options of {@link decodeQwen25VLConfig}.
 *
 * @since 0.1.0
 * @category config
 */
export interface DecodeQwen25VLConfigOptions {
  /**
   * Read a checkpoint's `config.json`: every field of {@link REQUIRED_TEXT_FIELDS} must be set (an
   * error names the missing one), other fields default as in Hugging Face's config class
   * ({@link huggingFaceDefaults}), and every special token id must lie inside the vocabulary.
   * Default `false` (configs built in code: the lenient class defaults below apply).
   */
  readonly requireModelFields?: boolean;
}

/** Class defaults of the text model (the 72B shape), for configs built in code. */
const textDefaults = {
  vocabSize: 152064,
  hiddenSize: 8192,
  intermediateSize: 29568,
  numHiddenLayers: 80,
  numAttentionHeads: 64,
  numKeyValueHeads: 8,
  rmsNormEps: 1e-6,
  ropeTheta: 1_000_000,
  maxPositionEmbeddings: 128000,
};

/**
 * Thrown (or failed with) when a `config.json` is not a usable Qwen2.5-VL configuration.
 *
 * @since 0.1.0
 * @category errors
 */
export class Qwen25VLConfigError extends Schema.TaggedError<Qwen25VLConfigError>()("Qwen25VLConfigError", {
  /** The file (or `"<object>"`) the configuration came from. */
  file: Schema.String,
  /** Path of the offending field, e.g. `vision_config.depth`. */
  field: Schema.String,
  reason: Schema.String,
}) {
  override get message(): string {
    const where = this.field === "" ? "" : ` at ${this.field}`;
    return `Invalid Qwen2.5-VL config ${this.file}${where}: ${this.reason}`;
  }
}
const fail = (file: string, field: string, reason: string): never => {
  throw new Qwen25VLConfigError({ file, field, reason });
};

const resolveRope = (
  text: typeof Qwen25VLConfigJson.Type,
  file: string,
  prefix: string,
): { ropeTheta: number; mropeSection: readonly number[] } => {
  const parameters = text.rope_parameters;
  const scaling = text.rope_scaling ?? undefined;
  const ropeType = scaling?.type ?? scaling?.rope_type ?? parameters?.rope_type ?? "default";
  if (ropeType !== "mrope" && ropeType !== "default") {
    fail(
      file,
      `${prefix}rope_scaling.type`,
      `unsupported rope type "${ropeType}" (expected "mrope" or "default")`,
    );
  }
  const mropeSection = scaling?.mrope_section ?? parameters?.mrope_section;
  if (mropeSection === undefined)
    fail(
      file,
      `${prefix}rope_scaling.mrope_section`,
      "missing: rope_scaling (or rope_parameters) must give mrope_section",
    );
  return {
    ropeTheta: parameters?.rope_theta ?? text.rope_theta ?? textDefaults.ropeTheta,
    mropeSection: mropeSection as readonly number[],
  };
};

const resolveText = (root: Qwen25VLConfigJson, file: string, strict: boolean): Qwen25VLTextConfig => {
  const text = root.text_config ?? root;
  const prefix = root.text_config === undefined ? "" : "text_config.";
  const pick = <K extends keyof typeof text>(key: K) => text[key] ?? root[key];
  if (strict)
    for (const field of REQUIRED_TEXT_FIELDS) {
      const fromParameters = field === "rope_theta" ? text.rope_parameters?.rope_theta : undefined;
      if (pick(field) === undefined && fromParameters === undefined)
        fail(file, `${prefix}${field}`, "missing: a checkpoint's config.json must set it");
    }
  const hiddenSize = pick("hidden_size") ?? textDefaults.hiddenSize;
  const numAttentionHeads = pick("num_attention_heads") ?? textDefaults.numAttentionHeads;
  const numKeyValueHeads = pick("num_key_value_heads") ?? textDefaults.numKeyValueHeads;
  if (hiddenSize % numAttentionHeads !== 0) {
    fail(
      file,
      `${prefix}hidden_size`,
      `${hiddenSize} is not divisible by num_attention_heads ${numAttentionHeads}`,
    );
  }
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    fail(
      file,
      `${prefix}num_key_value_heads`,
      `num_attention_heads ${numAttentionHeads} is not a multiple of num_key_value_heads ${numKeyValueHeads}`,
    );
  }
  const headDim = hiddenSize / numAttentionHeads;
  const { ropeTheta, mropeSection } = resolveRope({ ...root, ...text }, file, prefix);
  if (mropeSection.length !== 3 || mropeSection.reduce((a, b) => a + b, 0) !== headDim / 2) {
    fail(
      file,
      `${prefix}rope_scaling.mrope_section`,
      `expected three sections summing to head_dim/2 = ${headDim / 2}, got [${mropeSection.join(", ")}]`,
    );
  }
  if (pick("use_sliding_window") === true) {
    fail(file, `${prefix}use_sliding_window`, "sliding-window attention is not supported for Qwen2.5-VL");
  }
  return {
    vocabSize: pick("vocab_size") ?? textDefaults.vocabSize,
    hiddenSize,
    intermediateSize: pick("intermediate_size") ?? textDefaults.intermediateSize,
    numHiddenLayers: pick("num_hidden_layers") ?? textDefaults.numHiddenLayers,
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    rmsNormEps: pick("rms_norm_eps") ?? textDefaults.rmsNormEps,
    ropeTheta,
    mropeSection: [mropeSection[0]!, mropeSection[1]!, mropeSection[2]!],
    tieWordEmbeddings:
      root.tie_word_embeddings ??
      text.tie_word_embeddings ??
      (strict ? huggingFaceDefaults.tie_word_embeddings : true),
    maxPositionEmbeddings:
      pick("max_position_embeddings") ??
      (strict ? huggingFaceDefaults.max_position_embeddings : textDefaults.maxPositionEmbeddings),
  };
};

const resolveVision = (
  root: Qwen25VLConfigJson,
  text: Qwen25VLTextConfig,
  file: string,
): Qwen25VLVisionConfig => {
  const v = root.vision_config ?? {};
  const vision: Qwen25VLVisionConfig = {
    depth: v.depth ?? visionDefaults.depth,
    hiddenSize: v.hidden_size ?? v.embed_dim ?? visionDefaults.hiddenSize,
    intermediateSize: v.intermediate_size ?? visionDefaults.intermediateSize,
    numHeads: v.num_heads ?? visionDefaults.numHeads,
    inChannels: v.in_channels ?? v.in_chans ?? visionDefaults.inChannels,
    patchSize: v.patch_size ?? v.spatial_patch_size ?? visionDefaults.patchSize,
    temporalPatchSize: v.temporal_patch_size ?? visionDefaults.temporalPatchSize,
    spatialMergeSize: v.spatial_merge_size ?? visionDefaults.spatialMergeSize,
    windowSize: v.window_size ?? visionDefaults.windowSize,
    fullattBlockIndexes: v.fullatt_block_indexes ?? visionDefaults.fullattBlockIndexes,
    outHiddenSize: v.out_hidden_size ?? text.hiddenSize,
    tokensPerSecond: v.tokens_per_second ?? visionDefaults.tokensPerSecond,
  };
  if (vision.hiddenSize % vision.numHeads !== 0 || (vision.hiddenSize / vision.numHeads) % 4 !== 0) {
    fail(
      file,
      "vision_config.hidden_size",
      `${vision.hiddenSize} / num_heads ${vision.numHeads} must be a multiple of 4`,
    );
  }
  if (vision.outHiddenSize !== text.hiddenSize) {
    fail(
      file,
      "vision_config.out_hidden_size",
      `${vision.outHiddenSize} must equal the text hidden_size ${text.hiddenSize}`,
    );
  }
  if (vision.windowSize % (vision.patchSize * vision.spatialMergeSize) !== 0) {
    fail(
      file,
      "vision_config.window_size",
      `${vision.windowSize} is not a multiple of patch_size × spatial_merge_size = ${vision.patchSize * vision.spatialMergeSize}`,
    );
  }
  return vision;
};

const SPECIAL_TOKEN_FIELDS = [
  "image_token_id",
  "video_token_id",
  "vision_start_token_id",
  "vision_end_token_id",
] as const;

const resolveTokens = (
  root: Qwen25VLConfigJson,
  text: Qwen25VLTextConfig,
  file: string,
  strict: boolean,
): Qwen25VLTokenIds => {
  const nested = root.text_config ?? {};
  // Hugging Face's default is none; configs built in code keep Qwen's <|im_end|>.
  const eos = root.eos_token_id ?? nested.eos_token_id ?? (strict ? [] : 151645);
  const id = (field: (typeof SPECIAL_TOKEN_FIELDS)[number]): number => {
    const value = root[field] ?? nested[field];
    if (strict && (value ?? huggingFaceDefaults[field]) >= text.vocabSize)
      fail(
        file,
        field,
        value === undefined
          ? `missing, and Hugging Face's default ${huggingFaceDefaults[field]} lies outside the vocabulary of ${text.vocabSize} tokens: set it`
          : `${value} lies outside the vocabulary of ${text.vocabSize} tokens`,
      );
    return value ?? huggingFaceDefaults[field];
  };
  return {
    imageTokenId: id("image_token_id"),
    videoTokenId: id("video_token_id"),
    visionStartTokenId: id("vision_start_token_id"),
    visionEndTokenId: id("vision_end_token_id"),
    bosTokenId: root.bos_token_id ?? nested.bos_token_id ?? undefined,
    eosTokenIds: typeof eos === "number" ? [eos] : eos,
  };
};

/**
 * Decode a parsed `config.json` into a {@link Qwen25VLConfig}. Accepts `rope_scaling.type`
 * `"mrope"` or `"default"` (and transformers 5's `rope_parameters`), a nested `text_config`, and a
 * partial `vision_config` (missing fields take the class defaults). Throws
 * {@link Qwen25VLConfigError} naming the field. With `requireModelFields` (a checkpoint's
 * `config.json`), the fields of {@link REQUIRED_TEXT_FIELDS} are required and the others default as
 * in Hugging Face's config class ({@link huggingFaceDefaults}).
 *
 * @since 0.1.0
 * @category config
 */
export const decodeQwen25VLConfig = (
  json: unknown,
  file = "config.json",
  options: DecodeQwen25VLConfigOptions = {},
): Qwen25VLConfig => {
  const strict = options.requireModelFields === true;
  const result = Schema.decodeUnknownResult(Qwen25VLConfigJson)(json, { errors: "all" });
  if (Result.isFailure(result)) {
    const invalid = toInvalidInput("Qwen2.5-VL config", result.failure);
    throw new Qwen25VLConfigError({ file, field: invalid.field, reason: invalid.reason });
  }
  const root = result.success;
  if (root.model_type !== undefined && root.model_type !== "qwen2_5_vl") {
    fail(file, "model_type", `expected "qwen2_5_vl", got "${root.model_type}"`);
  }
  const text = resolveText(root, file, strict);
  return { text, vision: resolveVision(root, text, file), tokens: resolveTokens(root, text, file, strict) };
};
