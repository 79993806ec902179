import type { FinishReason } from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import { promptBatch } from "../internal/generation/promptBatch.js";
import { makeRandom, type Random, streamSeed } from "../internal/generation/random.js";
import {
  logprobTemperature,
  type SamplingSettings,
  sampleToken,
  tokenLogprob,
} from "../internal/generation/sampleToken.js";
import { twinRowsAdapter } from "../internal/generation/twinRowsAdapter.js";
import { sequenceShapeProblem } from "../internal/tokenIdShape.js";
import { LoraAdapter } from "../lora/LoraAdapter.js";
import type { LinearAdapter } from "../model/LinearAdapter.js";
import { disposeQwen25VLCache, type Qwen25VLCache, selectQwen25VLCacheRows } from "../model/Qwen25VLCache.js";
import type { Qwen25VLModel } from "../model/Qwen25VLModel.js";
import { PromptInputError, PromptTooLongError } from "./errors.js";
import { decodeSamplingOptions } from "./GenerateOptions.js";
import type { GenerationPrompt } from "./GenerationPrompt.js";

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

interface RowState {
  readonly promptIndex: number;
  readonly groupIndex: number;
  readonly random: Random;
  readonly budget: number;
  readonly tokenIds: number[];
  readonly logprobs: number[];
  readonly stepLogits: Float32Array[];
  readonly referenceLogprobs: number[];
  finishReason: FinishReason | undefined;
}

const finishOf = (row: RowState, token: number, options: GenerateTokensOptions): FinishReason | undefined => {
  if (options.eosTokenIds.includes(token)) return "stop";
  const stops = options.stopStrings ?? [];
  if (stops.length > 0 && options.decode !== undefined) {
    const text = options.decode(row.tokenIds);
    if (stops.some((stop) => text.includes(stop))) return "stop";
  }
  return row.tokenIds.length >= row.budget ? "length" : undefined;
};

/**
 * Sample the next token of every active row from its logits (`[rows.length, V]`, then with
 * `reference` the twins' `[rows.length, V]`, scored at the sampled tokens).
 */
const sampleStep = (
  rows: ReadonlyArray<RowState>,
  logits: Float32Array,
  vocabulary: number,
  settings: SamplingSettings,
  options: GenerateTokensOptions,
): void => {
  rows.forEach((row, index) => {
    const values = logits.subarray(index * vocabulary, (index + 1) * vocabulary);
    const { token, logprob } = sampleToken(values, settings, row.random);
    row.tokenIds.push(token);
    row.logprobs.push(logprob);
    if (options.keepLogits === true) row.stepLogits.push(values.slice());
    if (options.reference !== undefined) {
      const twin = rows.length + index;
      const twinValues = logits.subarray(twin * vocabulary, (twin + 1) * vocabulary);
      row.referenceLogprobs.push(tokenLogprob(twinValues, token, logprobTemperature(settings.temperature)));
    }
    row.finishReason = finishOf(row, token, options);
  });
};

const checkPrompts = (prompts: ReadonlyArray<GenerationPrompt>, limit: number): void => {
  prompts.forEach((prompt, index) => {
    const shape = sequenceShapeProblem(prompt.inputIds);
    if (shape !== undefined)
      throw new PromptInputError({
        sample: prompt.sample ?? String(index),
        field: `prompts[${index}].inputIds`,
        reason: shape,
      });
    if (prompt.seed !== undefined && !Number.isInteger(prompt.seed))
      throw new PromptInputError({
        sample: prompt.sample ?? String(index),
        field: `prompts[${index}].seed`,
        reason: `the seed must be an integer, got ${prompt.seed}`,
      });
    if (prompt.inputIds.length === 0 || prompt.inputIds.length >= limit) {
      throw new PromptTooLongError({
        sample: prompt.sample ?? String(index),
        tokens: prompt.inputIds.length,
        limit,
        reason: prompt.inputIds.length === 0 ? "the prompt is empty" : "no room is left for a new token",
      });
    }
  });
};

/**
 * The adapter of a forward over `rows` rows: the requested (or the model's) one, or with
 * `reference` the twin-rows adapter (the first `rows / 2` rows the policy's, the rest the reference's).
 */
const forwardAdapter = (model: Qwen25VLModel, options: GenerateTokensOptions, rows: number) => {
  if (options.reference === undefined)
    return options.adapter === undefined ? {} : { adapter: options.adapter };
  const policy = options.adapter === undefined ? model.linearAdapter : options.adapter;
  return { adapter: twinRowsAdapter(policy ?? null, options.reference.adapter, rows / 2) };
};

/**
 * Prefill every prompt once (twice with `reference`: the prompts, then their twins); returns the
 * last-position logits `[P, V]` (`[2P, V]`) and the cache.
 */
const prefill = async (
  model: Qwen25VLModel,
  prompts: ReadonlyArray<GenerationPrompt>,
  options: GenerateTokensOptions,
): Promise<{ logits: Float32Array; cache: Qwen25VLCache }> => {
  const twins = options.reference !== undefined;
  const single = promptBatch(prompts, options.padTokenId);
  const batch = twins ? promptBatch([...prompts, ...prompts], options.padTokenId) : single;
  const adapter = forwardAdapter(model, options, batch.inputIds.length);
  // The twins' images: the vision tower runs on the prompts' images once per adapter that can
  // change it (once in all for a LoRA on the text decoder), never on the duplicated batch.
  const imageEmbeds =
    twins && single.pixelValues !== undefined ? twinImageEmbeds(model, single, options) : undefined;
  let output: ReturnType<Qwen25VLModel["forward"]>;
  try {
    output = model.forward(
      {
        inputIds: batch.inputIds,
        attentionMask: batch.attentionMask,
        ...(batch.pixelValues === undefined
          ? {}
          : imageEmbeds === undefined
            ? { pixelValues: batch.pixelValues, imageGridThw: batch.imageGridThw }
            : { imageEmbeds, imageGridThw: batch.imageGridThw }),
      },
      { logits: "last", cache: true, ...adapter },
    );
  } finally {
    imageEmbeds?.dispose();
  }
  output.hiddenStates.dispose();
  try {
    const logits = (await (output.logits as tf.Tensor).data()) as Float32Array;
    return { logits, cache: output.cache! };
  } catch (error) {
    disposeQwen25VLCache(output.cache!);
    throw error;
  } finally {
    output.logits!.dispose();
  }
};

/** Whether `adapter` may change the vision tower's output (a LoRA on the text decoder does not). */
const adaptsVision = (adapter: LinearAdapter | null | undefined): boolean =>
  adapter !== null &&
  adapter !== undefined &&
  (!(adapter instanceof LoraAdapter) ||
    [...adapter.modules.keys()].some((name) => !name.startsWith("model.layers.")));

/** Image features of the prompts, then of their twins (`[policy…, reference…]` rows). */
const twinImageEmbeds = (
  model: Qwen25VLModel,
  single: ReturnType<typeof promptBatch>,
  options: GenerateTokensOptions,
): tf.Tensor2D => {
  const policy = options.adapter === undefined ? model.linearAdapter : options.adapter;
  const reference = options.reference!.adapter;
  const encode = (adapter: LinearAdapter | null | undefined) =>
    model.encodeImages(single.pixelValues!, single.imageGridThw, { adapter: adapter ?? null }).imageEmbeds;
  const first = encode(policy);
  const second = adaptsVision(policy) || adaptsVision(reference) ? encode(reference) : first;
  const both = tf.concat([first, second]) as tf.Tensor2D;
  first.dispose();
  if (second !== first) second.dispose();
  return both;
};

/** Replace `cache` by its rows `rows` (disposing the old one). */
const keepRows = (cache: Qwen25VLCache, rows: ReadonlyArray<number>): Qwen25VLCache => {
  const selected = selectQwen25VLCacheRows(cache, rows);
  disposeQwen25VLCache(cache);
  return selected;
};

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
export const generateTokens = async (
  model: Qwen25VLModel,
  prompts: ReadonlyArray<GenerationPrompt>,
  options: GenerateTokensOptions,
): Promise<ReadonlyArray<GeneratedSequence>> => {
  const sampling = decodeSamplingOptions({
    n: options.n,
    temperature: options.temperature,
    maxNewTokens: options.maxNewTokens,
    seed: options.seed,
    ...(options.topP === undefined ? {} : { topP: options.topP }),
    ...(options.topK === undefined ? {} : { topK: options.topK }),
  });
  if (prompts.length === 0) return [];
  const limit = options.maxContextLength ?? model.config.text.maxPositionEmbeddings;
  checkPrompts(prompts, limit);
  const rows: RowState[] = prompts.flatMap((prompt, promptIndex) =>
    Array.from({ length: sampling.n }, (_, groupIndex) => ({
      promptIndex,
      groupIndex,
      random: makeRandom(
        prompt.seed === undefined
          ? streamSeed(sampling.seed, promptIndex, groupIndex)
          : streamSeed(prompt.seed, 0, groupIndex),
      ),
      budget: Math.min(sampling.maxNewTokens, limit - prompt.inputIds.length),
      tokenIds: [],
      logprobs: [],
      stepLogits: [],
      referenceLogprobs: [],
      finishReason: sampling.maxNewTokens === 0 ? ("length" as const) : undefined,
    })),
  );
  const suppress = new Set([
    model.config.tokens.imageTokenId,
    model.config.tokens.videoTokenId,
    ...(options.suppressTokenIds ?? []),
  ]);
  if (sampling.maxNewTokens > 0) await decodeAll(model, prompts, rows, options, { ...sampling, suppress });
  return rows.map((row) => ({
    promptIndex: row.promptIndex,
    groupIndex: row.groupIndex,
    tokenIds: row.tokenIds,
    logprobs: row.logprobs,
    finishReason: row.finishReason ?? "length",
    ...(options.keepLogits === true ? { stepLogits: row.stepLogits } : {}),
    ...(options.reference === undefined ? {} : { referenceLogprobs: row.referenceLogprobs }),
  }));
};

const decodeAll = async (
  model: Qwen25VLModel,
  prompts: ReadonlyArray<GenerationPrompt>,
  rows: ReadonlyArray<RowState>,
  options: GenerateTokensOptions,
  settings: SamplingSettings,
): Promise<void> => {
  const vocabulary = model.config.text.vocabSize;
  const twins = options.reference !== undefined;
  // With twins, cache and logits rows are [rows…, twins…], the twins' prompts after the prompts.
  const withTwins = (indices: ReadonlyArray<number>, offset: number) =>
    twins ? [...indices, ...indices.map((index) => index + offset)] : [...indices];
  const first = await prefill(model, prompts, options);
  const firstRows = withTwins(
    rows.map((row) => row.promptIndex),
    prompts.length,
  );
  const firstLogits = new Float32Array(firstRows.length * vocabulary);
  firstRows.forEach((promptRow, index) => {
    const start = promptRow * vocabulary;
    firstLogits.set(first.logits.subarray(start, start + vocabulary), index * vocabulary);
  });
  let cache = keepRows(first.cache, firstRows);
  let active: ReadonlyArray<RowState> = rows;
  let logits: Float32Array = firstLogits;
  try {
    for (;;) {
      sampleStep(active, logits, vocabulary, settings, options);
      const survivors = active.flatMap((row, index) => (row.finishReason === undefined ? [index] : []));
      if (survivors.length === 0) break;
      if (survivors.length < active.length) {
        cache = keepRows(cache, withTwins(survivors, active.length));
        active = survivors.map((index) => active[index]!);
      }
      const next = active.map((row) => [row.tokenIds.at(-1)!]);
      const inputIds = twins ? [...next, ...next] : next;
      const output = model.forward(
        { inputIds },
        { logits: "last", cache, ...forwardAdapter(model, options, inputIds.length) },
      );
      output.hiddenStates.dispose();
      disposeQwen25VLCache(cache);
      cache = output.cache!;
      try {
        logits = (await output.logits!.data()) as Float32Array;
      } finally {
        output.logits!.dispose();
      }
    }
  } finally {
    disposeQwen25VLCache(cache);
  }
};
