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

  const run = async (
    prompt: GenerationPrompt,
    request: SamplingRequest,
    maxTokens: number | undefined,
  ): Promise<GenerationResult> => {
    const adapter = adapterFor(request.model);
    const promptLength = prompt.inputIds.length;
    if (promptLength >= limit)
      throw invalidRequest(
        "messages",
        `This model's maximum context length is ${limit} tokens; the prompt alone has ${promptLength}.`,
      );
    const sequences = await generateTokens(model, [prompt], {
      n: request.n,
      temperature: request.temperature,
      topP: request.topP,
      ...(request.topK > 0 ? { topK: request.topK } : {}),
      maxNewTokens: Math.min(maxTokens ?? limit - promptLength, limit - promptLength),
      seed: request.seed,
      eosTokenIds: policy.eosTokenIds,
      padTokenId,
      decode,
      ...(request.stop.length > 0 ? { stopStrings: request.stop } : {}),
      maxContextLength: limit,
      adapter,
    });
    return {
      model: request.model ?? servedModelName,
      promptTokenIds: Array.from(prompt.inputIds),
      choices: sequences.map((sequence) => ({
        tokenIds: [...sequence.tokenIds],
        logprobs: [...sequence.logprobs],
        tokens: sequence.tokenIds.map((id) => processor.decode([id], { skipSpecialTokens: false })),
        text: decode(sequence.tokenIds),
        finishReason: sequence.finishReason,
      })),
    };
  };

  /** Processor failures (an undecodable image, a bad template) are the client's: 400. */
  const encodeOrReject = <A>(param: string, encode: () => A): A => {
    try {
      return encode();
    } catch (error) {
      throw invalidRequest(param, error instanceof Error ? error.message : String(error));
    }
  };

  return {
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
    chat: async (request) => {
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
      return run(prompt, request, request.maxTokens);
    },
    complete: async (request) => {
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
      return run({ inputIds, sample: "request" }, request, request.maxTokens);
    },
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
};
