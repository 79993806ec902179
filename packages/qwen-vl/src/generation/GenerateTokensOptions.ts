import type { FinishReason } from "@apo-rl/core";
import type { LinearAdapter } from "../model/LinearAdapter.js";

/**
 * Options of {@link generateTokens}: the core sampling options plus what the engine needs to know
 * about the vocabulary.
 *
 * @since 0.1.0
 * @category generation
 */
export interface GenerateTokensOptions {
  readonly n: number;
  /** 0 is greedy decoding. */
  readonly temperature: number;
  readonly topP?: number;
  readonly topK?: number;
  readonly maxNewTokens: number;
  readonly seed: number;
  /** Tokens that end a rollout (kept as its last token). */
  readonly eosTokenIds: ReadonlyArray<number>;
  /**
   * Ids never sampled, besides the model's `<|image_pad|>` and `<|video_pad|>` (which always are:
   * an image placeholder without an image cannot be scored).
   */
  readonly suppressTokenIds?: ReadonlyArray<number>;
  /** Left-padding id (masked out, any valid id). */
  readonly padTokenId: number;
  /** Strings that end a rollout once its decoded text contains one (requires `decode`). */
  readonly stopStrings?: ReadonlyArray<string>;
  readonly decode?: (ids: ReadonlyArray<number>) => string;
  /** Context limit (default `max_position_embeddings`): prompt + new tokens never exceed it. */
  readonly maxContextLength?: number;
  /** Overrides the model's adapter (`null`: base weights). */
  readonly adapter?: LinearAdapter | null;
  /** Keep each step's raw logits row (tests, debugging). */
  readonly keepLogits?: boolean;
  /**
   * Also score every sampled token under the same model with this adapter instead (`null`: the
   * base weights — a LoRA policy's reference), in the same batched forwards: each row gets a twin
   * row, teacher-forced with the row's own sampled tokens, that samples nothing. Each sequence then
   * carries `referenceLogprobs`, at the sampling temperature (1 for greedy) like `logprobs`. While
   * decoding is bound by reading the weights (few rows), the twins cost little more than their
   * prompts' prefill; a separate reference pass re-reads every weight for prompt and response.
   */
  readonly reference?: { readonly adapter: LinearAdapter | null };
}

/**
 * One generated sequence. `logprobs[t] = log softmax(logits_t / T)[tokenIds[t]]` over the whole
 * vocabulary (T = temperature, 1 for greedy), before any top-k/top-p truncation.
 *
 * @since 0.1.0
 * @category generation
 */
export interface GeneratedSequence {
  readonly promptIndex: number;
  readonly groupIndex: number;
  readonly tokenIds: ReadonlyArray<number>;
  readonly logprobs: ReadonlyArray<number>;
  readonly finishReason: FinishReason;
  readonly stepLogits?: ReadonlyArray<Float32Array>;
  /** With `reference`: `log softmax(reference logits_t / T)[tokenIds[t]]`. */
  readonly referenceLogprobs?: ReadonlyArray<number>;
}
