import type { Qwen25VLConfig } from "../../config/Qwen25VLConfig.js";

import type { Qwen25VLParts } from "../../model/Qwen25VLParts.js";

/** A weight the model needs: canonical (transformers ≤ 4.51) name and its shape. */
export interface WeightSpec {
  readonly name: string;
  readonly shape: ReadonlyArray<number>;
  /** How the weight is initialised randomly. */
  readonly init: "normal" | "zeros" | "ones";
}

const linear = (prefix: string, out: number, input: number, bias: boolean): WeightSpec[] => [
  { name: `${prefix}.weight`, shape: [out, input], init: "normal" },
  ...(bias ? [{ name: `${prefix}.bias`, shape: [out], init: "zeros" } as const] : []),
];

const norm = (name: string, size: number): WeightSpec => ({ name, shape: [size], init: "ones" });

/** Weights of the text decoder, lm_head included when it is not tied. */
export const textWeightSpecs = (config: Qwen25VLConfig): WeightSpec[] => {
  const t = config.text;
  const kv = t.numKeyValueHeads * t.headDim;
  const layers = Array.from({ length: t.numHiddenLayers }, (_, index) => {
    const p = `model.layers.${index}`;
    return [
      norm(`${p}.input_layernorm.weight`, t.hiddenSize),
      ...linear(`${p}.self_attn.q_proj`, t.hiddenSize, t.hiddenSize, true),
      ...linear(`${p}.self_attn.k_proj`, kv, t.hiddenSize, true),
      ...linear(`${p}.self_attn.v_proj`, kv, t.hiddenSize, true),
      ...linear(`${p}.self_attn.o_proj`, t.hiddenSize, t.hiddenSize, false),
      norm(`${p}.post_attention_layernorm.weight`, t.hiddenSize),
      ...linear(`${p}.mlp.gate_proj`, t.intermediateSize, t.hiddenSize, false),
      ...linear(`${p}.mlp.up_proj`, t.intermediateSize, t.hiddenSize, false),
      ...linear(`${p}.mlp.down_proj`, t.hiddenSize, t.intermediateSize, false),
    ];
  });
  return [
    { name: "model.embed_tokens.weight", shape: [t.vocabSize, t.hiddenSize], init: "normal" },
    ...layers.flat(),
    norm("model.norm.weight", t.hiddenSize),
    ...(t.tieWordEmbeddings ? [] : linear("lm_head", t.vocabSize, t.hiddenSize, false)),
  ];
};

/** Columns of a flattened patch: channels × temporal patch × patch × patch. */
export const patchColumns = (config: Qwen25VLConfig): number => {
  const v = config.vision;
  return v.inChannels * v.temporalPatchSize * v.patchSize * v.patchSize;
};

/** The Conv3d weight's shape as stored in checkpoints. */
export const patchEmbedCheckpointShape = (config: Qwen25VLConfig): number[] => {
  const v = config.vision;
  return [v.hiddenSize, v.inChannels, v.temporalPatchSize, v.patchSize, v.patchSize];
};

/** Weights of the vision tower. The patch embedding is held as a `[hidden, C·T·P·P]` matrix. */
export const visionWeightSpecs = (config: Qwen25VLConfig): WeightSpec[] => {
  const v = config.vision;
  const blocks = Array.from({ length: v.depth }, (_, index) => {
    const p = `visual.blocks.${index}`;
    return [
      norm(`${p}.norm1.weight`, v.hiddenSize),
      norm(`${p}.norm2.weight`, v.hiddenSize),
      ...linear(`${p}.attn.qkv`, 3 * v.hiddenSize, v.hiddenSize, true),
      ...linear(`${p}.attn.proj`, v.hiddenSize, v.hiddenSize, true),
      ...linear(`${p}.mlp.gate_proj`, v.intermediateSize, v.hiddenSize, true),
      ...linear(`${p}.mlp.up_proj`, v.intermediateSize, v.hiddenSize, true),
      ...linear(`${p}.mlp.down_proj`, v.hiddenSize, v.intermediateSize, true),
    ];
  });
  const merged = v.hiddenSize * v.spatialMergeSize * v.spatialMergeSize;
  return [
    { name: "visual.patch_embed.proj.weight", shape: [v.hiddenSize, patchColumns(config)], init: "normal" },
    ...blocks.flat(),
    norm("visual.merger.ln_q.weight", v.hiddenSize),
    ...linear("visual.merger.mlp.0", merged, merged, true),
    ...linear("visual.merger.mlp.2", v.outHiddenSize, merged, true),
  ];
};

/** Every weight of the chosen parts. */
export const weightSpecs = (config: Qwen25VLConfig, parts: Qwen25VLParts): WeightSpec[] => [
  ...(parts === "vision" ? [] : textWeightSpecs(config)),
  ...(parts === "text" ? [] : visionWeightSpecs(config)),
];

/** Checkpoint shape of a weight (differs from the held shape only for the patch embedding). */
export const checkpointShape = (config: Qwen25VLConfig, spec: WeightSpec): ReadonlyArray<number> =>
  spec.name === "visual.patch_embed.proj.weight" ? patchEmbedCheckpointShape(config) : spec.shape;

/**
 * Map a checkpoint tensor name to the canonical name: `model.language_model.*` → `model.*`,
 * `model.visual.*` → `visual.*`, and a leading `language_model.` (vLLM-style exports) dropped.
 */
export const canonicalWeightName = (name: string): string => {
  if (name.startsWith("model.language_model.")) return `model.${name.slice("model.language_model.".length)}`;
  if (name.startsWith("model.visual.")) return `visual.${name.slice("model.visual.".length)}`;
  if (name.startsWith("language_model.model.") || name.startsWith("language_model.lm_head.")) {
    return name.slice("language_model.".length);
  }
  return name;
};
