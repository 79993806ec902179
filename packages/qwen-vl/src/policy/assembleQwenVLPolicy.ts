import type {
  GenerationOptions,
  GenerationRequest,
  PolicyBatch,
  PolicyLogprobs,
  PolicyV1,
  Rollout,
  RolloutsWithReference,
} from "@apo-rl/core";
import type * as tf from "@tensorflow/tfjs-core";
import { PromptTooLongError } from "../generation/errors.js";
import { decodeSamplingOptions } from "../generation/GenerateOptions.js";
import type { GenerationPrompt } from "../generation/GenerationPrompt.js";
import { type GeneratedSequence, generateTokens } from "../generation/generateTokens.js";
import {
  disposeRolloutLayerStates,
  type RolloutLayerStates,
  rolloutLayerStatesBytes,
} from "../internal/generation/layerStateCollector.js";
import { sampleSequencesKeepingStates } from "../internal/generation/sampleSequences.js";
import { logprobTemperature } from "../internal/generation/sampleToken.js";
import { sequenceShapeProblem } from "../internal/tokenIdShape.js";
import { createLoraAdapter, LoraAdapter } from "../lora/LoraAdapter.js";
import type { Qwen25VLModel } from "../model/Qwen25VLModel.js";
import { PolicyBatchError, ReferencePolicyError } from "./errors.js";
import type { QwenVLPolicyOptions } from "./QwenVLPolicyOptions.js";
import { scoreResponses } from "./scoreResponses.js";

/**
 * A Qwen2.5-VL policy: the core {@link PolicyV1} plus what it is made of.
 *
 * @since 0.1.0
 * @category policy
 */
export interface QwenVLPolicy extends PolicyV1<tf.Tensor, tf.Variable> {
  readonly model: Qwen25VLModel;
  readonly processor: QwenVLPolicyOptions["processor"];
  /** The LoRA adapters, when the policy trains them. */
  readonly adapter: LoraAdapter | undefined;
  /** EOS ids generation stops on. */
  readonly eosTokenIds: ReadonlyArray<number>;
  /** Write the weights with the adapters merged in, as a full checkpoint directory. */
  saveMerged(directory: string): Promise<void>;
  /**
   * Bytes of the decoder states kept from the last rollout sampled with `retainForTraining` (0
   * when none are kept; states whose weights have changed since are released first).
   *
   * @since 0.2.0
   */
  retainedRolloutBytes(): number;
  /**
   * Whether sampling with `retainForTraining` keeps the rollout's states now: a LoRA adapter on the
   * decoder layers only, without dropout, with `model.gradientCheckpointing` on.
   *
   * @since 0.2.0
   */
  retainsRolloutStates(): boolean;
  /**
   * Release the states kept from the last rollout (they are released anyway when the policy
   * samples again, when `logprobs` finds the weights changed, and by `dispose`).
   *
   * @since 0.2.0
   */
  releaseRetainedRollout(): void;
  /** Release the adapters the policy created (not the model, processor or reference). */
  dispose(): void;
}

/** The decoder states of a rollout kept for the training pass that follows it. */
interface RetainedRollout {
  readonly states: RolloutLayerStates;
  /** The weights they were computed with (see `weightsFingerprint`). */
  readonly fingerprint: ReadonlyArray<unknown>;
  /** The sampled prompts, by prompt index. */
  readonly prompts: ReadonlyArray<GenerationPrompt>;
  /** Each returned rollout object's sequence index. */
  readonly rows: ReadonlyMap<Rollout, number>;
  readonly promptOfRow: ReadonlyArray<number>;
}

const isVisionWeight = (name: string) => name.startsWith("visual.");
const isMergerWeight = (name: string) => name.startsWith("visual.merger.");

/** Whether full fine-tuning trains weight `name` under the `trainVisionTower` option. */
const trainsWeight = (name: string, trainVisionTower: boolean | "merger" | undefined): boolean =>
  !isVisionWeight(name) ||
  trainVisionTower === true ||
  (trainVisionTower === "merger" && isMergerWeight(name));

/** EOS ids: the tokenizer's (`<|im_end|>`, `<|endoftext|>`), the model config's and the generation config's. */
const eosIdsOf = (options: QwenVLPolicyOptions): number[] => {
  const ids = [
    ...options.processor.tokenizer.eosTokenIds,
    ...options.model.config.tokens.eosTokenIds,
    ...(options.generationConfig?.eosTokenIds ?? []),
  ];
  return [...new Set(ids)].filter((id) => id < options.model.config.text.vocabSize);
};

const padIdOf = (options: QwenVLPolicyOptions): number => {
  const candidate = options.generationConfig?.padTokenId ?? options.processor.tokenizer.padTokenId;
  return candidate < options.model.config.text.vocabSize ? candidate : 0;
};

/** Set which model weights are trainable and return them (none under LoRA). */
const markTrainable = (options: QwenVLPolicyOptions, lora: boolean): tf.Variable[] => {
  const trainable: tf.Variable[] = [];
  for (const [name, variable] of options.model.parameters) {
    const trains = !lora && trainsWeight(name, options.trainVisionTower);
    variable.trainable = trains;
    if (trains) trainable.push(variable);
  }
  return trainable;
};

/**
 * How a policy's `save`, `load` and `saveMerged` reach storage: checkpoint directories in Node
 * (`createQwenVLPolicy`); without Node (`createPortableQwenVLPolicy`) they reject, and the weights
 * are taken with `writeSafetensors` instead.
 *
 * @since 0.2.0
 * @category policies
 */
export interface QwenVLPolicyStorage {
  save(parts: QwenVLPolicyParts, directory: string): Promise<void>;
  load(parts: QwenVLPolicyParts, directory: string): Promise<void>;
  saveMerged(parts: QwenVLPolicyParts, directory: string): Promise<void>;
}

/**
 * What {@link QwenVLPolicyStorage} works on.
 *
 * @since 0.2.0
 * @category policies
 */
export interface QwenVLPolicyParts {
  readonly model: Qwen25VLModel;
  readonly adapter: LoraAdapter | undefined;
  readonly options: QwenVLPolicyOptions;
}

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
 *
 * `save`, `load` and `saveMerged` go through `storage` (`createQwenVLPolicy`: checkpoint directories).
 *
 * @since 0.2.0
 * @category policy
 */
export const assembleQwenVLPolicy = (
  options: QwenVLPolicyOptions,
  storage: QwenVLPolicyStorage,
): QwenVLPolicy => {
  const { model, processor } = options;
  const ownsAdapter = options.lora !== undefined && !(options.lora instanceof LoraAdapter);
  const adapter =
    options.lora === undefined
      ? undefined
      : options.lora instanceof LoraAdapter
        ? options.lora
        : createLoraAdapter(model, options.lora);
  if (adapter !== undefined) model.linearAdapter = adapter;
  const trainableWeights = markTrainable(options, adapter !== undefined);
  const trainable = adapter === undefined ? trainableWeights : adapter.variables();
  const eosTokenIds = eosIdsOf(options);
  const padTokenId = padIdOf(options);
  const limit = options.maxContextLength ?? model.config.text.maxPositionEmbeddings;
  const encodings = new WeakMap<GenerationRequest, GenerationPrompt>();

  const encode = (request: GenerationRequest): GenerationPrompt => {
    const cached = encodings.get(request);
    if (cached !== undefined) return cached;
    const encoded = processor.encode(request.messages, request.images, { sample: request.promptId });
    const prompt: GenerationPrompt = {
      inputIds: encoded.inputIds,
      sample: request.promptId,
      ...(encoded.imageGridThw.length === 0
        ? {}
        : { pixelValues: encoded.pixelValues, imageGridThw: encoded.imageGridThw }),
    };
    encodings.set(request, prompt);
    return prompt;
  };
  const decode = (ids: ReadonlyArray<number>) => processor.decode(ids, { skipSpecialTokens: true });

  // The decoder states of the last rollout sampled with `retainForTraining`, for the training
  // pass that follows it with the same weights.
  let retained: RetainedRollout | undefined;
  const releaseRetainedRollout = () => {
    if (retained !== undefined) disposeRolloutLayerStates(retained.states);
    retained = undefined;
  };
  /** What the weights are now: the adapter in use and every weight's storage (an update replaces it). */
  const weightsFingerprint = (): ReadonlyArray<unknown> => [
    model.linearAdapter,
    model.gradientCheckpointing,
    ...[...model.parameters.values()].map((variable) => variable.dataId),
    ...(adapter?.variables().map((variable) => variable.dataId) ?? []),
  ];
  /**
   * Whether a training pass can start from sampled states: a LoRA on the decoder layers only (no
   * gradient is needed below the first layer), without dropout (the pass must compute what
   * sampling did), with activation checkpointing (the layers are recomputed in the backward).
   */
  const canRetain = (): boolean =>
    adapter !== undefined &&
    model.linearAdapter === adapter &&
    adapter.dropout === 0 &&
    model.gradientCheckpointing &&
    [...adapter.modules.keys()].every((name) => name.startsWith("model.layers."));

  const sample = async (
    requests: ReadonlyArray<GenerationRequest>,
    generation: GenerationOptions,
    withReference: boolean,
  ) => {
    const sampling = decodeSamplingOptions(generation);
    const prompts = requests.map(encode);
    releaseRetainedRollout();
    const tokenOptions = {
      ...sampling,
      eosTokenIds,
      padTokenId,
      decode,
      maxContextLength: limit,
      ...(adapter === undefined ? {} : { adapter }),
      // A LoRA policy's reference is its base weights: twin rows without the adapter.
      ...(withReference ? { reference: { adapter: null } } : {}),
    };
    const retain = generation.retainForTraining === true && canRetain();
    const fingerprint = retain ? weightsFingerprint() : [];
    let states: RolloutLayerStates | undefined;
    let sequences: ReadonlyArray<GeneratedSequence>;
    if (retain) {
      const sampled = await sampleSequencesKeepingStates(model, prompts, tokenOptions);
      sequences = sampled.sequences;
      states = sampled.states;
    } else {
      sequences = await generateTokens(model, prompts, tokenOptions);
    }
    const rollouts: ReadonlyArray<Rollout> = sequences.map((sequence) => ({
      promptId: requests[sequence.promptIndex]!.promptId,
      groupIndex: sequence.groupIndex,
      tokenIds: [...sequence.tokenIds],
      logprobs: [...sequence.logprobs],
      text: decode(sequence.tokenIds),
      finishReason: sequence.finishReason,
    }));
    if (states !== undefined)
      retained = {
        states,
        fingerprint,
        prompts,
        rows: new Map(rollouts.map((rollout, index) => [rollout, index])),
        promptOfRow: sequences.map((sequence) => sequence.promptIndex),
      };
    return {
      rollouts,
      referenceLogprobs: sequences.map((sequence) => [...(sequence.referenceLogprobs ?? [])]),
    };
  };
  const generate = async (
    requests: ReadonlyArray<GenerationRequest>,
    generation: GenerationOptions,
  ): Promise<ReadonlyArray<Rollout>> => (await sample(requests, generation, false)).rollouts;
  const generateWithReference = async (
    requests: ReadonlyArray<GenerationRequest>,
    generation: GenerationOptions,
  ): Promise<RolloutsWithReference> => sample(requests, generation, true);

  const rowsOf = (batch: PolicyBatch) => {
    const byId = new Map<string, GenerationRequest>();
    for (const request of batch.requests)
      if (!byId.has(request.promptId)) byId.set(request.promptId, request);
    return batch.rollouts.map((rollout, index) => {
      const request = byId.get(rollout.promptId);
      if (request === undefined) {
        throw new PolicyBatchError({
          sample: rollout.promptId,
          field: `rollouts[${index}].promptId`,
          reason: "no request of the batch has this promptId",
        });
      }
      const shape = sequenceShapeProblem(rollout.tokenIds);
      if (shape !== undefined)
        throw new PolicyBatchError({
          sample: rollout.promptId,
          field: `rollouts[${index}].tokenIds`,
          reason: shape,
        });
      const { imageTokenId, videoTokenId } = model.config.tokens;
      const bad = rollout.tokenIds.findIndex(
        (id) =>
          !Number.isInteger(id) ||
          id < 0 ||
          id >= model.config.text.vocabSize ||
          id === imageTokenId ||
          id === videoTokenId,
      );
      if (bad >= 0) {
        throw new PolicyBatchError({
          sample: rollout.promptId,
          field: `rollouts[${index}].tokenIds[${bad}]`,
          reason: `token id ${rollout.tokenIds[bad]} is outside 0…${model.config.text.vocabSize - 1} or an image/video placeholder`,
        });
      }
      const prompt = encode(request);
      const total = prompt.inputIds.length + rollout.tokenIds.length;
      if (total > limit) {
        throw new PromptTooLongError({
          sample: rollout.promptId,
          tokens: total,
          limit,
          reason: `prompt (${prompt.inputIds.length}) + response (${rollout.tokenIds.length}) exceed the context`,
        });
      }
      return { prompt, response: rollout.tokenIds };
    });
  };

  /** The kept states while the weights are those they were computed with (else they are released). */
  const currentRetained = (): RetainedRollout | undefined => {
    if (retained === undefined) return undefined;
    const now = weightsFingerprint();
    if (
      now.length !== retained.fingerprint.length ||
      now.some((item, index) => item !== retained!.fingerprint[index])
    )
      releaseRetainedRollout();
    return retained;
  };

  /**
   * The batch's rows' states kept from sampling them, when every row was sampled by the last
   * retaining rollout and the weights have not changed since (stale states are released).
   */
  const retainedStates = (
    batch: PolicyBatch,
    rows: ReadonlyArray<{ readonly prompt: GenerationPrompt; readonly response: ReadonlyArray<number> }>,
  ) => {
    const kept = currentRetained();
    if (kept === undefined) return undefined;
    const indices = batch.rollouts.map((rollout) => kept.rows.get(rollout));
    const usable = indices.every((index, row) => {
      if (index === undefined) return false;
      const promptIndex = kept.promptOfRow[index]!;
      return (
        kept.prompts[promptIndex] === rows[row]!.prompt &&
        kept.states.prompts[promptIndex]?.shape[1] === rows[row]!.prompt.inputIds.length &&
        (kept.states.rows[index]?.shape[1] ?? 0) === Math.max(0, rows[row]!.response.length - 1)
      );
    });
    if (!usable) return undefined;
    return {
      prompts: indices.map((index) => kept.states.prompts[kept.promptOfRow[index!]!]!),
      rows: indices.map((index) => kept.states.rows[index!]),
    };
  };

  const logprobs = (
    batch: PolicyBatch,
    scoring: { readonly reference?: boolean } = {},
  ): PolicyLogprobs<tf.Tensor> => {
    const rows = rowsOf(batch);
    const reference = scoring.reference === true;
    if (reference && adapter === undefined && options.reference === undefined) {
      throw new ReferencePolicyError({
        reason:
          "full fine-tuning needs a frozen copy of the initial weights: createQwenVLPolicy({ ..., reference: frozenCopyQwen25VL(model) })",
      });
    }
    const scorer = reference && adapter === undefined ? options.reference! : model;
    const layerStates = reference ? undefined : retainedStates(batch, rows);
    return scoreResponses(
      scorer,
      rows.map((row) => row.prompt),
      rows.map((row) => row.response),
      {
        temperature: logprobTemperature(batch.temperature),
        padTokenId,
        adapter: reference ? null : adapter,
        entropy: !reference && options.entropy !== false,
        ...(layerStates === undefined ? {} : { layerStates }),
        ...(options.logprobChunkSize === undefined ? {} : { chunkSize: options.logprobChunkSize }),
      },
    );
  };

  return {
    specificationVersion: "v1",
    name: options.name ?? (adapter === undefined ? "qwen2.5-vl" : "qwen2.5-vl-lora"),
    model,
    processor,
    adapter,
    eosTokenIds,
    generate,
    // Only LoRA policies: full fine-tuning's reference is another model (a separate pass).
    ...(adapter === undefined ? {} : { generateWithReference }),
    logprobs,
    trainableParameters: () => trainable,
    save: (directory) => storage.save({ model, adapter, options }, directory),
    load: (directory) => storage.load({ model, adapter, options }, directory),
    saveMerged: (directory) => storage.saveMerged({ model, adapter, options }, directory),
    retainsRolloutStates: canRetain,
    retainedRolloutBytes: () => {
      const kept = currentRetained();
      return kept === undefined ? 0 : rolloutLayerStatesBytes(kept.states);
    },
    releaseRetainedRollout,
    dispose: () => {
      releaseRetainedRollout();
      if (ownsAdapter) {
        if (model.linearAdapter === adapter) model.linearAdapter = undefined;
        adapter?.dispose();
      }
    },
  };
};

/**
 * A Qwen2.5-VL policy for hosts without Node (a browser page): {@link assembleQwenVLPolicy} whose
 * `save`, `load` and `saveMerged` reject with an `Error` saying that
 * checkpoint directories need Node; take the weights with `writeSafetensors` (or
 * `writeLoraAdapterSafetensors`) instead.
 *
 * @since 0.2.0
 * @category policies
 */
export const createPortableQwenVLPolicy = (options: QwenVLPolicyOptions): QwenVLPolicy => {
  const unsupported = (what: string) => async () => {
    throw new Error(`${what} writes a checkpoint directory, which needs Node; use writeSafetensors instead`);
  };
  return assembleQwenVLPolicy(options, {
    save: unsupported("policy.save"),
    load: unsupported("policy.load"),
    saveMerged: unsupported("policy.saveMerged"),
  });
};
