import type { QwenVLGenerationConfig } from "../generation/GenerationConfig.js";
import type { LoraAdapter } from "../lora/LoraAdapter.js";
import type { LoraOptions } from "../lora/LoraOptions.js";
import type { Qwen25VLModel } from "../model/Qwen25VLModel.js";
import type { QwenVLProcessorShape } from "../processor/QwenVLProcessor.js";

/**
 * Options of {@link createQwenVLPolicy}.
 *
 * @since 0.1.0
 * @category policy
 */
export interface QwenVLPolicyOptions {
  readonly model: Qwen25VLModel;
  readonly processor: QwenVLProcessorShape;
  /**
   * LoRA: options create fresh adapters (B = 0, so the policy starts equal to the base model), an
   * existing {@link LoraAdapter} is used as is. Absent: full fine-tuning of the text decoder.
   */
  readonly lora?: LoraOptions | LoraAdapter;
  /** Extra EOS ids / pad id (e.g. from `readGenerationConfig(checkpoint)`). */
  readonly generationConfig?: QwenVLGenerationConfig;
  /**
   * Full fine-tuning only: a frozen copy of the initial weights (`frozenCopyQwen25VL(model)`) used
   * by `logprobs(batch, { reference: true })`. LoRA policies use the base weights instead.
   */
  readonly reference?: Qwen25VLModel;
  /**
   * Full fine-tuning only: also train the vision tower (`true`), only its patch merger — the MLP
   * that projects vision features into the decoder's width (`"merger"`, the usual first stage of
   * adapting a language model to a frozen vision encoder) — or none of it (`false`, the default).
   */
  readonly trainVisionTower?: boolean | "merger";
  /** Context limit in tokens (default the model's `max_position_embeddings`). */
  readonly maxContextLength?: number;
  /** Tokens per chunk of the LM-head log-prob computation (see `linearTokenLogprobs`). */
  readonly logprobChunkSize?: number;
  /** Compute per-token entropy in `logprobs` (default `true`; never for the reference). */
  readonly entropy?: boolean;
  /** Where `save` copies tokenizer / processor / generation files from (full fine-tuning). */
  readonly checkpointSourceDirectory?: string;
  /** `PolicyV1.name` (default `"qwen2.5-vl"` or `"qwen2.5-vl-lora"`). */
  readonly name?: string;
}
