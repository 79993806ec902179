import { sampleSequences } from "../internal/generation/sampleSequences.js";
import type { Qwen25VLModel } from "../model/Qwen25VLModel.js";
import type { GeneratedSequence, GenerateTokensOptions } from "./GenerateTokensOptions.js";
import type { GenerationPrompt } from "./GenerationPrompt.js";

export type { GeneratedSequence, GenerateTokensOptions } from "./GenerateTokensOptions.js";

/**
 * The rollout engine: batched, KV-cached sampling of `n` continuations per prompt. All prompts
 * are prefilled once in one left-padded batch; each prompt's cache rows are then replicated `n`
 * times, and every decoding step runs one forward over the rows still generating (finished rows
 * are dropped from the cache). Row `(prompt p, sample g)` draws from its own random stream seeded
 * by `(seed, p, g)` (or `(prompt.seed, 0, g)` for a prompt with its own seed), so a rollout does not
 * depend on the batch it was generated in. Every tensor
 * is released before it returns.
 *
 * @since 0.1.0
 * @category generation
 */
export const generateTokens = (
  model: Qwen25VLModel,
  prompts: ReadonlyArray<GenerationPrompt>,
  options: GenerateTokensOptions,
): Promise<ReadonlyArray<GeneratedSequence>> => sampleSequences(model, prompts, options);
