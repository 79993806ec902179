import { existsSync } from "node:fs";
import { join } from "node:path";
import type { FinishReason } from "@apo-rl/core";
import {
  frozenCopyQwen25VL,
  type GenerationPrompt,
  generateTokens,
  type LoraAdapter,
  loadLoraAdapter,
  type Qwen25VLModel,
  type QwenVLPolicy,
  scoreResponses,
} from "@apo-rl/qwen-vl";
import * as tf from "@tensorflow/tfjs-core";
import { ConfigError } from "../errors.js";
import { loadQwenPolicy } from "../qwen/loadQwenPolicy.js";
import { invalidRequest, notFound } from "./errors.js";
import type {
  ChatCompletionRequest,
  CompletionRequest,
  SamplingRequest,
  ScoringRequest,
} from "./openAiRequests.js";

/**
 * One generated response of a request.
 *
 * @since 0.1.0
 * @category serve
 */
export interface GeneratedChoice {
  readonly tokenIds: ReadonlyArray<number>;
  /** Log-probability of each sampled token under the distribution it was sampled from (after temperature; 1 for greedy). */
  readonly logprobs: ReadonlyArray<number>;
  /** Each token decoded on its own (special tokens kept). */
  readonly tokens: ReadonlyArray<string>;
  /** The response decoded without special tokens. */
  readonly text: string;
  readonly finishReason: FinishReason;
  /**
   * Each token's log-probability under the request's `reference_model`, given the prompt and the
   * tokens before it, at the request's temperature (1 for greedy); absent when none was named.
   */
  readonly referenceLogprobs?: ReadonlyArray<number>;
}

/**
 * What one request generated.
 *
 * @since 0.1.0
 * @category serve
 */
export interface GenerationResult {
  readonly model: string;
  readonly promptTokenIds: ReadonlyArray<number>;
  readonly choices: ReadonlyArray<GeneratedChoice>;
}

/**
 * A request tokenised by the engine, ready to be decoded (alone or batched with others).
 *
 * @since 0.1.0
 * @category serve
 */
export interface EncodedRequest {
  readonly prompt: GenerationPrompt;
  readonly request: SamplingRequest;
}

/**
 * What requests must share to be decoded in one batch: the model (or adapter), the reference model
 * that scores the responses, and every sampling setting but the seed.
 *
 * @since 0.1.0
 * @category serve
 */
export const generationBatchKey = (request: SamplingRequest): string =>
  JSON.stringify([
    request.model ?? null,
    request.n,
    request.temperature,
    request.topP,
    request.topK,
    request.maxTokens ?? null,
    request.stop,
    request.referenceModel ?? null,
  ]);

/**
 * A scoring request (`/v1/completions` with `echo`, `max_tokens: 0`) tokenised by the engine: per
 * prompt, the context (with the images of the chat prompt it extends) and the tokens to score.
 *
 * @since 0.2.0
 * @category serve
 */
export interface EncodedScoring {
  readonly request: ScoringRequest;
  readonly rows: ReadonlyArray<{
    readonly context: GenerationPrompt;
    readonly scored: ReadonlyArray<number>;
  }>;
}

/**
 * What a scoring request returns per prompt: its token ids and each token's log-probability given
 * the tokens before it (`null` before `logprob_start_len`, and for the first token).
 *
 * @since 0.2.0
 * @category serve
 */
export interface ScoredPrompt {
  readonly tokenIds: ReadonlyArray<number>;
  readonly logprobs: ReadonlyArray<number | null>;
  readonly tokens: ReadonlyArray<string>;
  readonly text: string;
}

/**
 * An entry of `/v1/models`: the base model, or a LoRA adapter (`parent` = the base).
 *
 * @since 0.1.0
 * @category serve
 */
export interface ServedModel {
  readonly id: string;
  readonly root: string;
  readonly parent: string | null;
  readonly maxModelLength: number;
}

/**
 * The model behind `apo-serve`: a Qwen2.5-VL checkpoint, the LoRA adapters loaded at runtime, and
 * the weight-sync operations. Generation runs the same engine (`generateTokens`) with the same
 * settings as the in-process policy, so a request with a seed samples what
 * `policy.generate([request], { n, temperature, topP, topK, maxNewTokens, seed })` samples.
 * Not re-entrant: the server runs one operation at a time.
 *
 * @since 0.1.0
 * @category serve
 */
export interface ServeEngine {
  readonly servedModelName: string;
  models(): ReadonlyArray<ServedModel>;
  chat(request: ChatCompletionRequest): Promise<GenerationResult>;
  complete(request: CompletionRequest): Promise<GenerationResult>;
  /** Tokenise a chat request (its images processed); a bad one throws a 400 `ServeRequestError`. */
  encodeChat(request: ChatCompletionRequest): EncodedRequest;
  /** Tokenise a completion request; a bad one throws a 400 `ServeRequestError`. */
  encodeCompletion(request: CompletionRequest): EncodedRequest;
  /**
   * Decode encoded requests in one batch: they must share a {@link generationBatchKey} (model and
   * every sampling setting but the seed). Each request keeps its own seed, so each gets exactly the
   * tokens it gets alone (up to float rounding of the padded batch). Results in request order.
   */
  generate(requests: ReadonlyArray<EncodedRequest>): Promise<ReadonlyArray<GenerationResult>>;
  /**
   * Tokenise a scoring request: each token-id prompt that holds image tokens must extend the prompt
   * of a recent chat request (whose images it then reuses); a bad one throws a 400.
   */
  encodeScoring(request: ScoringRequest): EncodedScoring;
  /** The log-probs of an encoded scoring request's tokens under its model, at its temperature. */
  score(encoded: EncodedScoring): ReadonlyArray<ScoredPrompt>;
  loadLoraAdapter(name: string, path: string): Promise<void>;
  unloadLoraAdapter(name: string): void;
  /** The loaded adapters, by name, with their paths. */
  loraAdapters(): Readonly<Record<string, string>>;
  /** Read a full checkpoint's weights into the served model (same architecture). */
  updateWeightsFromDisk(path: string, weightVersion: string | undefined): Promise<void>;
  /** The checkpoint the weights were last read from. */
  readonly modelPath: string;
  /** The `weight_version` of the last weight update (`"0"` before any). */
  readonly weightVersion: string;
  dispose(): void;
}

/**
 * Options of {@link createServeEngine}.
 *
 * @since 0.1.0
 * @category serve
 */
export interface ServeEngineOptions {
  /** The name the base model is served under (default: the checkpoint directory). */
  readonly servedModelName?: string;
  /** Most LoRA adapters loaded at once (default 8); loading one more answers 400. */
  readonly maxLoras?: number;
  /**
   * Keep a frozen copy of the weights loaded at start and serve it under this name: the reference
   * policy of a KL term, which `update_weights_from_disk` leaves as it was.
   */
  readonly referenceModelName?: string;
}

/** Chat prompts with named images, remembered for scoring requests that extend them (by image uuids). */
const RECENT_PROMPTS = 128;

/**
 * Load the Qwen2.5-VL checkpoint in `directory` (the tfjs backend must be initialised) and serve it.
 *
 * @since 0.1.0
 * @category serve
 */
export const createServeEngine = async (
  directory: string,
  options: ServeEngineOptions = {},
): Promise<ServeEngine> => {
  const policy: QwenVLPolicy = await loadQwenPolicy(directory, { entropy: false });
  const { model, processor } = policy;
  const servedModelName = options.servedModelName ?? directory;
  const maxLoras = options.maxLoras ?? 8;
  const limit = model.config.text.maxPositionEmbeddings;
  const vocabularySize = model.config.text.vocabSize;
  const padTokenId = processor.tokenizer.padTokenId < vocabularySize ? processor.tokenizer.padTokenId : 0;
  const adapters = new Map<string, { readonly adapter: LoraAdapter; readonly path: string }>();
  const referenceName = options.referenceModelName;
  if (referenceName !== undefined && referenceName === servedModelName)
    throw new ConfigError({
      source: "apo-serve",
      reason: `the reference model name must differ from the served model name (${servedModelName})`,
    });
  const reference: Qwen25VLModel | undefined =
    referenceName === undefined ? undefined : frozenCopyQwen25VL(model);
  /** A number per distinct pixel array (the images of one kept chat prompt). */
  const imageIds = new WeakMap<Float32Array, number>();
  const imageIdentity = (pixels: Float32Array): number => {
    let id = imageIds.get(pixels);
    if (id === undefined) {
      id = nextImageId++;
      imageIds.set(pixels, id);
    }
    return id;
  };
  let nextImageId = 0;
  /** Recent chat prompts by their images' uuids, oldest first. */
  const recentPrompts = new Map<string, GenerationPrompt>();
  const imageTokenId = model.config.tokens.imageTokenId;
  let modelPath = directory;
  let weightVersion = "0";

  const adapterFor = (name: string | undefined): LoraAdapter | null => {
    if (name === undefined || name === servedModelName || (name === referenceName && name !== undefined))
      return null;
    const entry = adapters.get(name);
    if (entry === undefined) throw notFound("model", `The model \`${name}\` does not exist.`);
    return entry.adapter;
  };

  /** The weights and adapter that score under `name` (the reference model, an adapter, the base). */
  const scorerFor = (name: string | undefined) => ({
    scorer: name !== undefined && name === referenceName ? reference! : model,
    adapter: adapterFor(name),
  });

  /**
   * The log-probs of each row's `scored` tokens after its context under `name`, at `temperature`
   * (0: 1, as for greedy sampling). Rows of one context share its prefill (the n responses of one
   * prompt): the same tokens and the same images (prompts of different images may have the same
   * tokens).
   */
  const scoreRows = (
    name: string | undefined,
    temperature: number,
    rows: ReadonlyArray<{ readonly context: GenerationPrompt; readonly scored: ReadonlyArray<number> }>,
  ): number[][] => {
    const { scorer, adapter } = scorerFor(name);
    return tf.tidy(() => {
      const shared = new Map<string, GenerationPrompt>();
      const contexts = rows.map((row) => {
        const images = row.context.pixelValues === undefined ? -1 : imageIdentity(row.context.pixelValues);
        const key = `${images}|${Array.from(row.context.inputIds).join(",")}`;
        const known = shared.get(key);
        if (known !== undefined) return known;
        shared.set(key, row.context);
        return row.context;
      });
      const { logp } = scoreResponses(
        scorer,
        contexts,
        rows.map((row) => row.scored),
        { temperature: temperature > 0 ? temperature : 1, padTokenId, adapter, entropy: false },
      );
      return logp.arraySync() as number[][];
    });
  };

  const decode = (ids: ReadonlyArray<number>) => processor.decode(ids, { skipSpecialTokens: true });

  /** The prompt, refused with a 400 when it leaves no room in the context. */
  const checkLength = (prompt: GenerationPrompt): GenerationPrompt => {
    if (prompt.inputIds.length >= limit)
      throw invalidRequest(
        "messages",
        `This model's maximum context length is ${limit} tokens; the prompt alone has ${prompt.inputIds.length}.`,
      );
    return prompt;
  };

  const generate = async (encoded: ReadonlyArray<EncodedRequest>): Promise<GenerationResult[]> => {
    if (encoded.length === 0) return [];
    const first = encoded[0]!.request;
    const key = generationBatchKey(first);
    if (encoded.some((item) => generationBatchKey(item.request) !== key))
      throw invalidRequest(null, "Requests decoded in one batch must share the model and sampling settings.");
    const adapter = adapterFor(first.model);
    // Each prompt's budget: max_tokens, capped by what its context leaves (generateTokens caps per row).
    const maxNewTokens = Math.max(
      ...encoded.map(({ prompt }) =>
        Math.min(first.maxTokens ?? limit - prompt.inputIds.length, limit - prompt.inputIds.length),
      ),
    );
    const sequences = await generateTokens(
      model,
      encoded.map(({ prompt, request }) => ({ ...prompt, seed: request.seed })),
      {
        n: first.n,
        temperature: first.temperature,
        topP: first.topP,
        ...(first.topK > 0 ? { topK: first.topK } : {}),
        maxNewTokens,
        seed: first.seed,
        eosTokenIds: policy.eosTokenIds,
        padTokenId,
        decode,
        ...(first.stop.length > 0 ? { stopStrings: first.stop } : {}),
        maxContextLength: limit,
        adapter,
      },
    );
    // `reference_model`: the responses scored under it right away, in one pass, in this job.
    const referenceLogprobs =
      first.referenceModel === undefined
        ? undefined
        : scoreRows(
            first.referenceModel,
            first.temperature,
            sequences.map((sequence) => ({
              context: encoded[sequence.promptIndex]!.prompt,
              scored: sequence.tokenIds,
            })),
          );
    return encoded.map(({ prompt, request }, index) => ({
      model: request.model ?? servedModelName,
      promptTokenIds: Array.from(prompt.inputIds),
      choices: sequences.flatMap((sequence, row) =>
        sequence.promptIndex !== index
          ? []
          : [
              {
                tokenIds: [...sequence.tokenIds],
                logprobs: [...sequence.logprobs],
                tokens: sequence.tokenIds.map((id) => processor.decode([id], { skipSpecialTokens: false })),
                text: decode(sequence.tokenIds),
                finishReason: sequence.finishReason,
                ...(referenceLogprobs === undefined
                  ? {}
                  : { referenceLogprobs: referenceLogprobs[row]!.slice(0, sequence.tokenIds.length) }),
              },
            ],
      ),
    }));
  };

  /** Processor failures (an undecodable image, a bad template) are the client's: 400. */
  const encodeOrReject = <A>(param: string, encode: () => A): A => {
    try {
      return encode();
    } catch (error) {
      throw invalidRequest(param, error instanceof Error ? error.message : String(error));
    }
  };

  const engine: ServeEngine = {
    servedModelName,
    get modelPath() {
      return modelPath;
    },
    get weightVersion() {
      return weightVersion;
    },
    models: () => [
      { id: servedModelName, root: modelPath, parent: null, maxModelLength: limit },
      ...(referenceName === undefined
        ? []
        : [{ id: referenceName, root: directory, parent: null, maxModelLength: limit }]),
      ...[...adapters].map(([id, entry]) => ({
        id,
        root: entry.path,
        parent: servedModelName,
        maxModelLength: limit,
      })),
    ],
    encodeChat: (request) => {
      adapterFor(request.model);
      scorerFor(request.referenceModel);
      const encoded = encodeOrReject("messages", () =>
        processor.encode(request.messages, request.images, { sample: "request" }),
      );
      const prompt: GenerationPrompt = {
        inputIds: encoded.inputIds,
        sample: "request",
        ...(encoded.imageGridThw.length === 0
          ? {}
          : { pixelValues: encoded.pixelValues, imageGridThw: encoded.imageGridThw }),
      };
      checkLength(prompt);
      // Images named by uuid: kept (processed) for scoring requests that extend this prompt.
      if (
        prompt.pixelValues !== undefined &&
        request.imageUuids.length > 0 &&
        request.imageUuids.every((uuid) => uuid !== undefined)
      ) {
        const key = request.imageUuids.join("\n");
        recentPrompts.delete(key);
        recentPrompts.set(key, prompt);
        if (recentPrompts.size > RECENT_PROMPTS) recentPrompts.delete(recentPrompts.keys().next().value!);
      }
      return { prompt, request };
    },
    encodeScoring: (request) => {
      adapterFor(request.model);
      const rows = request.prompts.map((ids, index) => {
        const param = `prompt[${index}]`;
        const bad = ids.findIndex((id) => id >= vocabularySize);
        if (bad >= 0)
          throw invalidRequest(
            param,
            `Token id ${ids[bad]} is outside the vocabulary (0…${vocabularySize - 1}).`,
          );
        if (ids.length > limit)
          throw invalidRequest(
            param,
            `This model's maximum context length is ${limit} tokens; the prompt has ${ids.length}.`,
          );
        const start = Math.min(Math.max(request.logprobStartLength, 1), ids.length);
        let images: GenerationPrompt | undefined;
        if (ids.includes(imageTokenId)) {
          images =
            request.imageUuids === undefined ? undefined : recentPrompts.get(request.imageUuids.join("\n"));
          if (images === undefined)
            throw invalidRequest(
              request.imageUuids === undefined ? param : "multi_modal_uuids",
              "The prompt holds image tokens: name its images in 'multi_modal_uuids' by the 'uuid' they had in a recent chat request to this server (apo-serve reuses them; it takes no images here).",
            );
          const cached = Array.from(images.inputIds);
          if (cached.length > ids.length || cached.some((id, position) => ids[position] !== id))
            throw invalidRequest(
              param,
              "The prompt does not extend the chat prompt whose images 'multi_modal_uuids' names.",
            );
          if (start < cached.length || ids.lastIndexOf(imageTokenId) >= cached.length)
            throw invalidRequest(
              "logprob_start_len",
              `Log-probs inside a multimodal prompt are not returned: 'logprob_start_len' must be at least ${cached.length}, the length of the chat prompt it extends.`,
            );
        }
        const context: GenerationPrompt = {
          inputIds: ids.slice(0, start),
          sample: "request",
          ...(images === undefined
            ? {}
            : { pixelValues: images.pixelValues!, imageGridThw: images.imageGridThw! }),
        };
        return { context, scored: ids.slice(start) };
      });
      return { request, rows };
    },
    score: ({ request, rows }) => {
      if (rows.length === 0) return [];
      const values = scoreRows(request.model, request.temperature, rows);
      return rows.map((row, index) => {
        const tokenIds = [...Array.from(row.context.inputIds), ...row.scored];
        const start = row.context.inputIds.length;
        return {
          tokenIds,
          logprobs: tokenIds.map((_, position) =>
            position < Math.max(start, 1) ? null : values[index]![position - start]!,
          ),
          tokens: tokenIds.map((id) => processor.decode([id], { skipSpecialTokens: false })),
          text: processor.decode(tokenIds, { skipSpecialTokens: false }),
        };
      });
    },
    encodeCompletion: (request) => {
      adapterFor(request.model);
      scorerFor(request.referenceModel);
      if (typeof request.prompt !== "string") {
        const bad = request.prompt.findIndex((id) => id >= vocabularySize);
        if (bad >= 0)
          throw invalidRequest(
            "prompt",
            `Token id ${request.prompt[bad]} is outside the vocabulary (0…${vocabularySize - 1}).`,
          );
      }
      const inputIds =
        typeof request.prompt === "string"
          ? encodeOrReject(
              "prompt",
              () => processor.encodeText(request.prompt as string, [], { sample: "request" }).inputIds,
            )
          : request.prompt;
      return { prompt: checkLength({ inputIds, sample: "request" }), request };
    },
    generate,
    chat: async (request) => (await generate([engine.encodeChat(request)]))[0]!,
    complete: async (request) => (await generate([engine.encodeCompletion(request)]))[0]!,
    loadLoraAdapter: async (name, path) => {
      if (name === servedModelName || adapters.has(name))
        throw invalidRequest("lora_name", `The lora adapter '${name}' has already been loaded.`);
      if (adapters.size >= maxLoras)
        throw invalidRequest(
          "lora_name",
          `${maxLoras} LoRA adapters are loaded (--max-loras); unload one before loading '${name}'.`,
        );
      if (!existsSync(join(path, "adapter_config.json")))
        throw invalidRequest("lora_path", `No PEFT adapter at '${path}' (adapter_config.json is missing).`);
      const previous = model.linearAdapter;
      try {
        const adapter = await loadLoraAdapter(model, path);
        adapters.set(name, { adapter, path });
      } catch (error) {
        throw invalidRequest(
          "lora_path",
          `Cannot load the LoRA adapter '${name}': ${(error as Error).message}`,
        );
      } finally {
        // Requests pick their adapter explicitly; the model's own hook stays on the base weights.
        model.linearAdapter = previous;
      }
    },
    unloadLoraAdapter: (name) => {
      const entry = adapters.get(name);
      if (entry === undefined) throw notFound("lora_name", `The lora adapter '${name}' cannot be found.`);
      adapters.delete(name);
      entry.adapter.dispose();
    },
    loraAdapters: () => Object.fromEntries([...adapters].map(([name, entry]) => [name, entry.path])),
    updateWeightsFromDisk: async (path, version) => {
      if (
        !existsSync(join(path, "model.safetensors")) &&
        !existsSync(join(path, "model.safetensors.index.json"))
      )
        throw invalidRequest("model_path", `No checkpoint at '${path}' (model.safetensors is missing).`);
      try {
        await policy.load(path);
      } catch (error) {
        throw invalidRequest(
          "model_path",
          `Cannot read the weights of '${path}': ${(error as Error).message}`,
        );
      }
      modelPath = path;
      weightVersion = version ?? String(Number.parseInt(weightVersion, 10) + 1 || 1);
    },
    dispose: () => {
      for (const entry of adapters.values()) entry.adapter.dispose();
      adapters.clear();
      recentPrompts.clear();
      reference?.dispose();
      policy.dispose();
      model.dispose();
    },
  };
  return engine;
};
