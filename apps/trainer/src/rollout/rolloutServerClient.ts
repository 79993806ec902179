import { createHash } from "node:crypto";
import type { FinishReason, GenerationOptions, GenerationRequest } from "@apo-rl/core";
import { RolloutServiceError } from "./errors.js";
import { imageDataUri } from "./imageDataUri.js";

/**
 * One sampled response as a rollout server returned it.
 *
 * @since 0.1.0
 * @category rollout
 */
export interface RemoteChoice {
  readonly tokenIds: ReadonlyArray<number>;
  readonly logprobs: ReadonlyArray<number>;
  readonly text: string;
  readonly finishReason: FinishReason;
  /**
   * The tokens' log-probs under the `referenceModel` the request named, when the server scored them
   * with the sampling (apo-serve's `reference_logprobs`); absent otherwise (vLLM, SGLang).
   */
  readonly referenceLogprobs?: ReadonlyArray<number>;
}

/**
 * One request's sampled responses and the prompt's token ids as the server rendered it (vLLM's
 * `prompt_token_ids`, when the server returns it).
 *
 * @since 0.2.0
 * @category rollout
 */
export interface RemoteGeneration {
  readonly choices: ReadonlyArray<RemoteChoice>;
  readonly promptTokenIds: ReadonlyArray<number> | undefined;
  /** The `uuid` sent with each image part, in order. */
  readonly imageUuids: ReadonlyArray<string>;
}

/**
 * Options of {@link rolloutServerClient}.
 *
 * @since 0.1.0
 * @category rollout
 */
export interface RolloutServerClientOptions {
  /** Sent as `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
  /** Per-request time limit in milliseconds. */
  readonly timeoutMs: number;
  /** How many 429 answers to wait out (their `Retry-After`, at most 5 s each) before failing. */
  readonly busyRetries?: number;
}

/**
 * A client of one OpenAI-compatible rollout server (`apo-serve`, vLLM or SGLang): chat completions
 * with token ids and log-probs, and the weight-sync endpoints.
 *
 * @since 0.1.0
 * @category rollout
 */
export interface RolloutServerClient {
  readonly url: string;
  /**
   * `/v1/chat/completions` for one request: `options.n` responses sampled with `options.seed`.
   * `scoring.referenceModel` asks the server to also score the responses under that model in the
   * same request (apo-serve's `reference_model` extension): the choices then carry
   * `referenceLogprobs`, unless the server ignores the field (vLLM, SGLang), in which case they
   * come back without them.
   */
  generate(
    model: string,
    request: GenerationRequest,
    options: GenerationOptions,
    scoring?: { readonly referenceModel?: string | undefined },
  ): Promise<RemoteGeneration>;
  /**
   * The log-probs of each response's tokens after the prompt under `model` at `temperature`:
   * `/v1/completions` with the token ids `prompt ++ response` per response, `echo: true`,
   * `logprobs: 0`, `max_tokens: 0`, `logprob_start_len` = the prompt's length and the prompt's
   * images named by their uuids (`multi_modal_uuids`): the server reuses them, nothing is re-sent.
   */
  scoreResponses(
    model: string,
    prompt: Pick<RemoteGeneration, "promptTokenIds" | "imageUuids">,
    responses: ReadonlyArray<ReadonlyArray<number>>,
    temperature: number,
  ): Promise<ReadonlyArray<ReadonlyArray<number>>>;
  /** vLLM's `/v1/load_lora_adapter`. */
  loadLoraAdapter(name: string, path: string): Promise<void>;
  /** vLLM's `/v1/unload_lora_adapter`. */
  unloadLoraAdapter(name: string): Promise<void>;
  /** SGLang's `/update_weights_from_disk`. */
  updateWeightsFromDisk(path: string, weightVersion: string): Promise<void>;
  /** `GET /health` answers 200. */
  healthy(): Promise<boolean>;
  /** The ids of `GET /v1/models`, the base model first. */
  modelIds(): Promise<ReadonlyArray<string>>;
}

/**
 * The `uuid` of an image part (vLLM's multimodal UUIDs): a digest of its data URI, so that a scoring
 * request can name the images of the chat prompt it extends.
 */
const imageUuid = (dataUri: string) =>
  createHash("sha256").update(dataUri, "utf8").digest("hex").slice(0, 32);

/** The OpenAI content parts of a core message; image parts take the request's images in order. */
const chatMessages = async (request: GenerationRequest) => {
  let imageIndex = 0;
  return Promise.all(
    request.messages.map(async (message) => {
      if (typeof message.content === "string") return { role: message.role, content: message.content };
      const content = [];
      for (const part of message.content) {
        if (part.type === "text") content.push({ type: "text", text: part.text });
        else {
          const image = request.images?.[imageIndex] ?? part.image;
          imageIndex += 1;
          const url = await imageDataUri(image);
          content.push({ type: "image_url", image_url: { url }, uuid: imageUuid(url) });
        }
      }
      return { role: message.role, content };
    }),
  );
};

/**
 * The `/v1/chat/completions` body of a generation request: its messages (images as data URIs),
 * the sampling options (`top_k` and `stop` when set), `logprobs: true`, and vLLM's
 * `return_token_ids` / `return_tokens_as_token_ids` so that the exact token ids come back, and
 * apo-serve's `reference_model` when `referenceModel` is given.
 *
 * @since 0.1.0
 * @category rollout
 */
export const chatCompletionBody = async (
  model: string,
  request: GenerationRequest,
  options: GenerationOptions,
  referenceModel?: string,
) => ({
  model,
  messages: await chatMessages(request),
  n: options.n,
  temperature: options.temperature,
  top_p: options.topP ?? 1,
  ...(options.topK !== undefined && options.topK > 0 ? { top_k: options.topK } : {}),
  max_tokens: options.maxNewTokens,
  ...(options.stopStrings !== undefined && options.stopStrings.length > 0
    ? { stop: options.stopStrings }
    : {}),
  seed: options.seed,
  logprobs: true,
  top_logprobs: 0,
  return_token_ids: true,
  return_tokens_as_token_ids: true,
  skip_special_tokens: true,
  ...(referenceModel === undefined ? {} : { reference_model: referenceModel }),
});

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Token ids and log-probs of one choice: `token_ids`, else the `token_id:<id>` log-prob tokens. */
const parseChoice = (choice: unknown, url: string): RemoteChoice & { readonly index: number } => {
  const fail = (reason: string): never => {
    throw new RolloutServiceError({ server: url, reason: `malformed chat completion: ${reason}` });
  };
  if (!isRecord(choice)) return fail("a choice is not an object");
  const content = isRecord(choice["logprobs"]) ? choice["logprobs"]["content"] : undefined;
  if (!Array.isArray(content))
    return fail("a choice has no logprobs.content (the server must return log-probs)");
  const logprobs = content.map((entry) => {
    const value = isRecord(entry) ? entry["logprob"] : undefined;
    if (typeof value !== "number" || Number.isNaN(value) || value === Number.POSITIVE_INFINITY)
      return fail("a log-prob is not a number");
    return Math.max(Math.min(value as number, 0), -1e9);
  });
  const tokenIds = Array.isArray(choice["token_ids"])
    ? (choice["token_ids"] as unknown[])
    : content.map((entry) => {
        const match = /^token_id:(\d+)$/.exec(isRecord(entry) ? String(entry["token"]) : "");
        return match === null
          ? fail("no token_ids and the log-prob tokens are not token_id:<id>")
          : Number(match[1]);
      });
  if (tokenIds.some((id) => typeof id !== "number" || !Number.isInteger(id) || id < 0))
    fail("token_ids holds something other than token ids");
  if (tokenIds.length !== logprobs.length)
    fail(`${tokenIds.length} token ids but ${logprobs.length} log-probs`);
  const finish = choice["finish_reason"];
  const message = choice["message"];
  const reference = choice["reference_logprobs"];
  if (
    reference !== undefined &&
    reference !== null &&
    !(
      Array.isArray(reference) &&
      reference.length === tokenIds.length &&
      reference.every((value) => typeof value === "number" && !Number.isNaN(value) && value <= 1e-3)
    )
  )
    fail(`reference_logprobs must hold ${tokenIds.length} log-probs ≤ 0`);
  return {
    index: typeof choice["index"] === "number" ? choice["index"] : 0,
    tokenIds: tokenIds as number[],
    logprobs,
    text: isRecord(message) && typeof message["content"] === "string" ? message["content"] : "",
    finishReason: finish === "stop" ? "stop" : "length",
    ...(Array.isArray(reference)
      ? { referenceLogprobs: (reference as number[]).map((value) => Math.max(Math.min(value, 0), -1e9)) }
      : {}),
  };
};

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * A {@link RolloutServerClient} for the server at `url` (e.g. `http://127.0.0.1:8000`).
 *
 * @since 0.1.0
 * @category rollout
 */
export const rolloutServerClient = (
  url: string,
  options: RolloutServerClientOptions,
): RolloutServerClient => {
  const base = url.replace(/\/+$/, "");
  const headers: Record<string, string> = {
    "content-type": "application/json",
    ...(options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` }),
  };
  const busyRetries = options.busyRetries ?? 3;

  const post = async (path: string, body: unknown): Promise<unknown> => {
    let reconnected = false;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(`${base}${path}`, {
          method: "POST",
          headers,
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (error) {
        const cause =
          error instanceof Error
            ? error.cause instanceof Error
              ? error.cause.message
              : error.message
            : String(error);
        // A pooled keep-alive connection the server closed meanwhile: send once more on a new one.
        if (!reconnected && /other side closed|socket hang up|ECONNRESET|UND_ERR_SOCKET/i.test(cause)) {
          reconnected = true;
          continue;
        }
        throw new RolloutServiceError({ server: base, reason: `POST ${path} failed: ${cause}` });
      }
      const text = await response.text();
      if (response.status === 429 && attempt < busyRetries) {
        const seconds = Number(response.headers.get("retry-after") ?? "1");
        await sleep(1000 * Math.min(Number.isFinite(seconds) && seconds > 0 ? seconds : 1, 5));
        continue;
      }
      let json: unknown = text;
      try {
        json = text === "" ? undefined : JSON.parse(text);
      } catch {
        // vLLM answers its LoRA endpoints with a plain text line.
      }
      if (!response.ok) {
        const error = isRecord(json) ? json["error"] : undefined;
        const message =
          isRecord(error) && typeof error["message"] === "string"
            ? error["message"]
            : isRecord(json) && typeof json["message"] === "string"
              ? json["message"]
              : isRecord(json) && typeof json["error_message"] === "string"
                ? json["error_message"]
                : text.slice(0, 300);
        throw new RolloutServiceError({
          server: base,
          reason: `POST ${path} answered ${response.status}: ${message}`,
        });
      }
      if (isRecord(json) && json["success"] === false)
        throw new RolloutServiceError({
          server: base,
          reason: `POST ${path} failed: ${String(json["message"] ?? json["error_message"])}`,
        });
      return json;
    }
  };

  return {
    url: base,
    generate: async (model, request, generation, scoring) => {
      const body = await chatCompletionBody(model, request, generation, scoring?.referenceModel);
      const json = await post("/v1/chat/completions", body);
      const choices = isRecord(json) ? json["choices"] : undefined;
      if (!Array.isArray(choices) || choices.length !== generation.n)
        throw new RolloutServiceError({
          server: base,
          reason: `asked for ${generation.n} choices, got ${Array.isArray(choices) ? choices.length : "none"}`,
        });
      const promptTokenIds = isRecord(json) ? json["prompt_token_ids"] : undefined;
      return {
        choices: choices
          .map((choice) => parseChoice(choice, base))
          .sort((left, right) => left.index - right.index)
          .map(({ index: _index, ...choice }) => choice),
        promptTokenIds:
          Array.isArray(promptTokenIds) && promptTokenIds.every((id) => Number.isInteger(id))
            ? (promptTokenIds as number[])
            : undefined,
        imageUuids: body.messages.flatMap((message) =>
          typeof message.content === "string"
            ? []
            : message.content.flatMap((part) => ("uuid" in part ? [part.uuid] : [])),
        ),
      };
    },
    scoreResponses: async (model, prompt, responses, temperature) => {
      const promptTokenIds = prompt.promptTokenIds;
      if (promptTokenIds === undefined)
        throw new RolloutServiceError({
          server: base,
          reason: "the chat completion had no prompt_token_ids (return_token_ids): cannot score after it",
        });
      const start = promptTokenIds.length;
      const json = await post("/v1/completions", {
        model,
        prompt: responses.map((response) => [...promptTokenIds, ...response]),
        echo: true,
        logprobs: 0,
        max_tokens: 0,
        temperature,
        logprob_start_len: start,
        ...(prompt.imageUuids.length > 0 ? { multi_modal_uuids: { image: prompt.imageUuids } } : {}),
      });
      const choices = isRecord(json) ? json["choices"] : undefined;
      const fail = (reason: string): never => {
        throw new RolloutServiceError({ server: base, reason: `malformed scoring answer: ${reason}` });
      };
      if (!Array.isArray(choices) || choices.length !== responses.length)
        return fail(
          `asked to score ${responses.length} prompts, got ${Array.isArray(choices) ? choices.length : "none"}`,
        );
      const ordered = [...choices].sort(
        (left, right) =>
          (isRecord(left) && typeof left["index"] === "number" ? left["index"] : 0) -
          (isRecord(right) && typeof right["index"] === "number" ? right["index"] : 0),
      );
      return ordered.map((choice, row) => {
        const logprobs =
          isRecord(choice) && isRecord(choice["logprobs"]) ? choice["logprobs"]["token_logprobs"] : undefined;
        const length = start + responses[row]!.length;
        if (!Array.isArray(logprobs) || logprobs.length !== length)
          return fail(`choice ${row} has no token_logprobs of ${length} tokens`);
        return logprobs.slice(start).map((value) => {
          if (typeof value !== "number" || Number.isNaN(value) || value > 1e-3)
            return fail(`choice ${row} holds a log-prob that is not a number ≤ 0`);
          return Math.max(Math.min(value, 0), -1e9);
        });
      });
    },
    loadLoraAdapter: async (name, path) => {
      await post("/v1/load_lora_adapter", { lora_name: name, lora_path: path });
    },
    unloadLoraAdapter: async (name) => {
      await post("/v1/unload_lora_adapter", { lora_name: name });
    },
    updateWeightsFromDisk: async (path, weightVersion) => {
      await post("/update_weights_from_disk", { model_path: path, weight_version: weightVersion });
    },
    modelIds: async () => {
      let json: unknown;
      try {
        const response = await fetch(`${base}/v1/models`, {
          headers,
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        json = await response.json();
      } catch (error) {
        throw new RolloutServiceError({
          server: base,
          reason: `GET /v1/models failed: ${(error as Error).message}`,
        });
      }
      const data = isRecord(json) ? json["data"] : undefined;
      if (!Array.isArray(data))
        throw new RolloutServiceError({ server: base, reason: "GET /v1/models has no data list" });
      return data.flatMap((model) =>
        isRecord(model) && typeof model["id"] === "string" ? [model["id"]] : [],
      );
    },
    healthy: async () => {
      try {
        const response = await fetch(`${base}/health`, { signal: AbortSignal.timeout(options.timeoutMs) });
        await response.arrayBuffer();
        return response.ok;
      } catch {
        return false;
      }
    },
  };
};
