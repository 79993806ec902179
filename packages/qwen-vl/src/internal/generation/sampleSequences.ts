import type { FinishReason } from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import { PromptInputError, PromptTooLongError } from "../../generation/errors.js";
import { decodeSamplingOptions } from "../../generation/GenerateOptions.js";
import type { GeneratedSequence, GenerateTokensOptions } from "../../generation/GenerateTokensOptions.js";
import type { GenerationPrompt } from "../../generation/GenerationPrompt.js";
import { LoraAdapter } from "../../lora/LoraAdapter.js";
import type { LinearAdapter } from "../../model/LinearAdapter.js";
import {
  disposeQwen25VLCache,
  type Qwen25VLCache,
  selectQwen25VLCacheRows,
} from "../../model/Qwen25VLCache.js";
import type { Qwen25VLModel } from "../../model/Qwen25VLModel.js";
import { sequenceShapeProblem } from "../tokenIdShape.js";
import { LayerStateCollector, type RolloutLayerStates } from "./layerStateCollector.js";
import { promptBatch } from "./promptBatch.js";
import { makeRandom, type Random, streamSeed } from "./random.js";
import { logprobTemperature, type SamplingSettings, sampleToken, tokenLogprob } from "./sampleToken.js";
import { twinRowsAdapter } from "./twinRowsAdapter.js";

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
  collector: LayerStateCollector | undefined,
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
      {
        logits: "last",
        cache: true,
        // The policy's prompts are the batch's first rows (the twins follow).
        ...(collector === undefined ? {} : { layerStates: true, layerStateRows: prompts.length }),
        ...adapter,
      },
    );
  } finally {
    imageEmbeds?.dispose();
  }
  output.hiddenStates.dispose();
  if (output.layerStates !== undefined) collector?.prefill(output.layerStates, prompts);
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
 * {@link generateTokens}'s engine; with `collector`, the policy rows' decoder hidden states of
 * every forward are handed to it (prefill and each decoding step).
 */
export const sampleSequences = async (
  model: Qwen25VLModel,
  prompts: ReadonlyArray<GenerationPrompt>,
  options: GenerateTokensOptions,
  collector?: LayerStateCollector,
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
  if (sampling.maxNewTokens > 0)
    await decodeAll(model, prompts, rows, options, { ...sampling, suppress }, collector);
  collector?.seal(rows);
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
  collector: LayerStateCollector | undefined,
): Promise<void> => {
  const vocabulary = model.config.text.vocabSize;
  const twins = options.reference !== undefined;
  // With twins, cache and logits rows are [rows…, twins…], the twins' prompts after the prompts.
  const withTwins = (indices: ReadonlyArray<number>, offset: number) =>
    twins ? [...indices, ...indices.map((index) => index + offset)] : [...indices];
  const first = await prefill(model, prompts, options, collector);
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
        {
          logits: "last",
          cache,
          ...(collector === undefined ? {} : { layerStates: true, layerStateRows: active.length }),
          ...forwardAdapter(model, options, inputIds.length),
        },
      );
      output.hiddenStates.dispose();
      // The active rows' states at their last sampled token (the twins' rows are not kept).
      if (output.layerStates !== undefined) collector?.step(output.layerStates, active);
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

/**
 * {@link sampleSequences}, also returning the policy rows' decoder states (prompts and sampled
 * tokens; see {@link RolloutLayerStates}), which the caller owns.
 */
export const sampleSequencesKeepingStates = async (
  model: Qwen25VLModel,
  prompts: ReadonlyArray<GenerationPrompt>,
  options: GenerateTokensOptions,
): Promise<{ readonly sequences: ReadonlyArray<GeneratedSequence>; readonly states: RolloutLayerStates }> => {
  const collector = new LayerStateCollector();
  try {
    const sequences = await sampleSequences(model, prompts, options, collector);
    return { sequences, states: collector.take() };
  } finally {
    collector.dispose();
  }
};
