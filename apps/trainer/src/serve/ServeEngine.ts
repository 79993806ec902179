import { existsSync } from "node:fs";
import { join } from "node:path";
import type { FinishReason } from "@apo-rl/core";
import {
  type GenerationPrompt,
  generateTokens,
  type LoraAdapter,
  loadLoraAdapter,
  type QwenVLPolicy,
} from "@apo-rl/qwen-vl";
import { loadQwenPolicy } from "../qwen/loadQwenPolicy.js";
import { invalidRequest, notFound } from "./errors.js";
import type { ChatCompletionRequest, CompletionRequest, SamplingRequest } from "./openAiRequests.js";

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
 * What requests must share to be decoded in one batch: the model (or adapter) and every sampling
 * setting but the seed.
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
  ]);

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
}

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
  let modelPath = directory;
  let weightVersion = "0";

  const adapterFor = (name: string | undefined): LoraAdapter | null => {
    if (name === undefined || name === servedModelName) return null;
    const entry = adapters.get(name);
    if (entry === undefined) throw notFound("model", `The model \`${name}\` does not exist.`);
    return entry.adapter;
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
    return encoded.map(({ prompt, request }, index) => ({
      model: request.model ?? servedModelName,
      promptTokenIds: Array.from(prompt.inputIds),
      choices: sequences
        .filter((sequence) => sequence.promptIndex === index)
        .map((sequence) => ({
          tokenIds: [...sequence.tokenIds],
          logprobs: [...sequence.logprobs],
          tokens: sequence.tokenIds.map((id) => processor.decode([id], { skipSpecialTokens: false })),
          text: decode(sequence.tokenIds),
          finishReason: sequence.finishReason,
        })),
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
      ...[...adapters].map(([id, entry]) => ({
        id,
        root: entry.path,
        parent: servedModelName,
        maxModelLength: limit,
      })),
    ],
    encodeChat: (request) => {
      adapterFor(request.model);
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
      return { prompt: checkLength(prompt), request };
    },
    encodeCompletion: (request) => {
      adapterFor(request.model);
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
      policy.dispose();
      model.dispose();
    },
  };
  return engine;
};
