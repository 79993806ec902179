import { readLoraWeightsInto, saveLoraAdapter } from "../lora/peftFormat.js";
import { assembleQwenVLPolicy, type QwenVLPolicy, type QwenVLPolicyStorage } from "./assembleQwenVLPolicy.js";
import type { QwenVLPolicyOptions } from "./QwenVLPolicyOptions.js";
import { readQwen25VLWeightsInto, saveQwen25VLCheckpoint } from "./saveQwen25VLCheckpoint.js";

export type { QwenVLPolicy } from "./assembleQwenVLPolicy.js";

/** Checkpoint directories: a PEFT adapter directory under LoRA, else an HF checkpoint directory. */
const directoryStorage: QwenVLPolicyStorage = {
  save: ({ model, adapter, options }, directory) =>
    adapter === undefined
      ? saveQwen25VLCheckpoint(model, directory, {
          ...(options.checkpointSourceDirectory === undefined
            ? {}
            : { copyFrom: options.checkpointSourceDirectory }),
        })
      : saveLoraAdapter(adapter, directory),
  load: ({ model, adapter }, directory) =>
    adapter === undefined
      ? readQwen25VLWeightsInto(model, directory)
      : readLoraWeightsInto(adapter, directory),
  saveMerged: ({ model, adapter, options }, directory) =>
    saveQwen25VLCheckpoint(model, directory, {
      ...(adapter === undefined ? {} : { mergeAdapter: adapter }),
      ...(options.checkpointSourceDirectory === undefined
        ? {}
        : { copyFrom: options.checkpointSourceDirectory }),
    }),
};

/**
 * Turn a Qwen2.5-VL model and its processor into the core policy the trainer drives.
 *
 * - `generate`: chat-template + image processing of each request, then {@link generateTokens}
 *   (KV cache, `n` samples sharing one prefill, seeded). Rollouts keep their EOS token; `text` is
 *   decoded without special tokens.
 * - `logprobs`: differentiable `[S, T]` log-probs of the rollouts' tokens at the batch temperature
 *   (1 for greedy), equal to the sampling log-probs (PPO ratio 1 at the start), with entropy.
 * - LoRA (`lora`): only the adapters train; the reference is the base model (adapters off). Full
 *   fine-tuning: the text decoder trains (vision tower frozen unless `trainVisionTower`); the
 *   reference needs `reference: frozenCopyQwen25VL(model)`.
 * - `save`/`load`: PEFT adapter directory under LoRA, else an HF checkpoint directory.
 *
 * Prompt encodings are cached per request object (a `WeakMap`), so `logprobs` on the requests
 * given to `generate` does not decode the images again.
 *
 * @example
 * const model = await loadQwen25VL(dir);
 * const processor = await loadQwenVLProcessor(dir);
 * const policy = createQwenVLPolicy({ model, processor, lora: { rank: 8, alpha: 16 } });
 * const rollouts = await policy.generate(requests, { n: 8, temperature: 1, maxNewTokens: 256, seed: 0 });
 * @since 0.1.0
 * @category policy
 */
export const createQwenVLPolicy = (options: QwenVLPolicyOptions): QwenVLPolicy =>
  assembleQwenVLPolicy(options, directoryStorage);
