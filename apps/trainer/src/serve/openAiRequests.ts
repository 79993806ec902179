import { randomInt } from "node:crypto";
import type { ChatMessage } from "@apo-rl/core";
import { invalidRequest } from "./errors.js";

/**
 * The sampling fields shared by `/v1/completions` and `/v1/chat/completions`, decoded.
 * `temperature: 0` is greedy; `topK: 0` keeps every token (vLLM's `-1` is accepted for the same).
 *
 * @since 0.1.0
 * @category serve
 */
export interface SamplingRequest {
  /** The served model or a loaded LoRA adapter; absent: the base model. */
  readonly model: string | undefined;
  readonly n: number;
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  /** Seed of the sampler (a random one when the request gives none). */
  readonly seed: number;
  /** New-token budget; absent: what the context leaves. */
  readonly maxTokens: number | undefined;
  readonly stop: ReadonlyArray<string>;
  /** Return the sampled tokens' log-probs. */
  readonly logprobs: boolean;
  /** vLLM's `return_token_ids`: add `token_ids` to each choice (and `prompt_token_ids`). */
  readonly returnTokenIds: boolean;
  /** vLLM's `return_tokens_as_token_ids`: log-prob tokens read `token_id:<id>`. */
  readonly tokensAsIds: boolean;
  /**
   * apo-serve's `reference_model` (an extension; vLLM and SGLang ignore it): also score each sampled
   * response under this served model (the KL reference) in the same job, returned per choice as
   * `reference_logprobs`; absent: not scored.
   */
  readonly referenceModel: string | undefined;
}

/**
 * A decoded `/v1/chat/completions` request: core chat messages whose image parts name
 * `images[k]`, the decoded `image_url` data URIs.
 *
 * @since 0.1.0
 * @category serve
 */
export interface ChatCompletionRequest extends SamplingRequest {
  readonly messages: ReadonlyArray<ChatMessage>;
  readonly images: ReadonlyArray<Uint8Array>;
  /**
   * vLLM's `uuid` of each image part (absent: none given): a scoring request names the images of
   * the chat prompt it extends by these.
   */
  readonly imageUuids: ReadonlyArray<string | undefined>;
}

/**
 * A decoded `/v1/completions` request: a rendered prompt (text or token ids).
 *
 * @since 0.1.0
 * @category serve
 */
export interface CompletionRequest extends SamplingRequest {
  readonly prompt: string | ReadonlyArray<number>;
  /** OpenAI's default for `/v1/completions` is 16 new tokens. */
  readonly maxTokens: number;
}

/** Most responses per request (`n`). */
const MAX_N = 128;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The JSON object of a request body, or a 400 naming what is wrong. */
const requestObject = (body: unknown): Record<string, unknown> => {
  if (!isRecord(body)) throw invalidRequest(null, "The request body must be a JSON object.");
  return body;
};

const optionalNumber = (
  body: Record<string, unknown>,
  field: string,
  check: (value: number) => boolean,
  expectation: string,
): number | undefined => {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || !check(value))
    throw invalidRequest(field, `'${field}' must be ${expectation}, got ${JSON.stringify(value)}.`);
  return value;
};

const optionalBoolean = (body: Record<string, unknown>, field: string): boolean | undefined => {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean")
    throw invalidRequest(field, `'${field}' must be a boolean, got ${JSON.stringify(value)}.`);
  return value;
};

const isInteger = (value: number) => Number.isInteger(value);

const stopStrings = (body: Record<string, unknown>): ReadonlyArray<string> => {
  const stop = body["stop"];
  if (stop === undefined || stop === null) return [];
  const list = typeof stop === "string" ? [stop] : stop;
  if (!Array.isArray(list) || list.some((item) => typeof item !== "string" || item.length === 0))
    throw invalidRequest("stop", "'stop' must be a non-empty string or a list of them.");
  return list as string[];
};

/** The sampling fields of either endpoint; `defaultMaxTokens` for the completions default of 16. */
const samplingRequest = (body: Record<string, unknown>, maxTokensFields: ReadonlyArray<string>) => {
  if (body["stream"] === true)
    throw invalidRequest("stream", "apo-serve does not stream: send 'stream': false (or leave it out).");
  const model = body["model"];
  if (model !== undefined && model !== null && (typeof model !== "string" || model.length === 0))
    throw invalidRequest("model", "'model' must be a non-empty string.");
  const referenceModel = body["reference_model"];
  if (
    referenceModel !== undefined &&
    referenceModel !== null &&
    (typeof referenceModel !== "string" || referenceModel.length === 0)
  )
    throw invalidRequest("reference_model", "'reference_model' must be a non-empty string.");
  const n =
    optionalNumber(
      body,
      "n",
      (value) => isInteger(value) && value >= 1 && value <= MAX_N,
      `an integer in 1…${MAX_N}`,
    ) ?? 1;
  const temperature =
    optionalNumber(body, "temperature", (value) => value >= 0 && value <= 100, "a number ≥ 0") ?? 1;
  const topP = optionalNumber(body, "top_p", (value) => value > 0 && value <= 1, "a number in (0, 1]") ?? 1;
  const topK =
    optionalNumber(
      body,
      "top_k",
      (value) => isInteger(value) && value >= -1,
      "an integer ≥ -1 (-1 or 0: off)",
    ) ?? 0;
  const seed =
    optionalNumber(
      body,
      "seed",
      (value) => isInteger(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER,
      "an integer",
    ) ?? randomInt(0, 2 ** 31);
  let maxTokens: number | undefined;
  for (const field of maxTokensFields) {
    const value = optionalNumber(
      body,
      field,
      (candidate) => isInteger(candidate) && candidate >= 1,
      "an integer ≥ 1",
    );
    if (value !== undefined) maxTokens = value;
  }
  return {
    model: typeof model === "string" ? model : undefined,
    n,
    temperature,
    topP,
    topK: topK === -1 ? 0 : topK,
    seed,
    maxTokens,
    stop: stopStrings(body),
    returnTokenIds: optionalBoolean(body, "return_token_ids") ?? false,
    tokensAsIds: optionalBoolean(body, "return_tokens_as_token_ids") ?? false,
    referenceModel: typeof referenceModel === "string" ? referenceModel : undefined,
  };
};

const DATA_URI = /^data:(image\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/=\s]*)$/i;

/** The bytes of a base64 `data:image/…` URI (the only image source apo-serve reads: it fetches nothing). */
const imageBytes = (url: unknown, param: string): Uint8Array => {
  if (typeof url !== "string")
    throw invalidRequest(param, "'image_url.url' must be a string (a data:image/...;base64 URI).");
  const match = DATA_URI.exec(url);
  if (match === null)
    throw invalidRequest(
      param,
      "apo-serve only reads images given inline as 'data:image/png;base64,...' (or jpeg) URIs; it fetches no URLs.",
    );
  const bytes = Buffer.from(match[2]!, "base64");
  if (bytes.length === 0) throw invalidRequest(param, "The image data URI holds no bytes.");
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
};

const ROLES = ["system", "user", "assistant"] as const;

/** OpenAI chat messages as core chat messages, the images collected in order. */
const chatMessages = (
  value: unknown,
): { messages: ChatMessage[]; images: Uint8Array[]; imageUuids: Array<string | undefined> } => {
  if (!Array.isArray(value) || value.length === 0)
    throw invalidRequest("messages", "'messages' must be a non-empty list of chat messages.");
  const images: Uint8Array[] = [];
  const imageUuids: Array<string | undefined> = [];
  const messages = value.map((message, index): ChatMessage => {
    const param = `messages[${index}]`;
    if (!isRecord(message)) throw invalidRequest(param, "Each message must be an object.");
    const role = message["role"];
    if (typeof role !== "string" || !(ROLES as ReadonlyArray<string>).includes(role))
      throw invalidRequest(
        `${param}.role`,
        `'role' must be one of ${ROLES.join(", ")}, got ${JSON.stringify(role)}.`,
      );
    const content = message["content"];
    if (typeof content === "string") return { role: role as ChatMessage["role"], content };
    if (!Array.isArray(content))
      throw invalidRequest(`${param}.content`, "'content' must be a string or a list of content parts.");
    const parts = content.map((part, partIndex) => {
      const partParam = `${param}.content[${partIndex}]`;
      if (!isRecord(part)) throw invalidRequest(partParam, "Each content part must be an object.");
      if (part["type"] === "text") {
        if (typeof part["text"] !== "string")
          throw invalidRequest(`${partParam}.text`, "'text' must be a string.");
        return { type: "text" as const, text: part["text"] };
      }
      if (part["type"] === "image_url") {
        const image = part["image_url"];
        const url = isRecord(image) ? image["url"] : image;
        images.push(imageBytes(url, `${partParam}.image_url.url`));
        const uuid = part["uuid"];
        if (uuid !== undefined && uuid !== null && (typeof uuid !== "string" || uuid.length === 0))
          throw invalidRequest(`${partParam}.uuid`, "'uuid' must be a non-empty string.");
        imageUuids.push(typeof uuid === "string" ? uuid : undefined);
        return { type: "image" as const, image: `image_url:${images.length - 1}` };
      }
      throw invalidRequest(
        `${partParam}.type`,
        `Content parts must be 'text' or 'image_url', got ${JSON.stringify(part["type"])}.`,
      );
    });
    return { role: role as ChatMessage["role"], content: parts };
  });
  return { messages, images, imageUuids };
};

/**
 * Decode a `/v1/chat/completions` body: `messages` (text and `image_url` data-URI parts), `model`,
 * `n`, `temperature`, `top_p`, `top_k`, `seed`, `max_tokens` / `max_completion_tokens`, `stop`,
 * `logprobs` (with `top_logprobs` 0), vLLM's `return_token_ids` and `return_tokens_as_token_ids`,
 * and apo-serve's `reference_model`. Throws a 400 {@link ServeRequestError} naming the field.
 *
 * @since 0.1.0
 * @category serve
 */
export const decodeChatCompletionRequest = (input: unknown): ChatCompletionRequest => {
  const body = requestObject(input);
  const sampling = samplingRequest(body, ["max_tokens", "max_completion_tokens"]);
  const topLogprobs = optionalNumber(
    body,
    "top_logprobs",
    (value) => isInteger(value) && value >= 0 && value <= 20,
    "an integer in 0…20",
  );
  if (topLogprobs !== undefined && topLogprobs > 0)
    throw invalidRequest(
      "top_logprobs",
      "apo-serve returns the sampled tokens' log-probs only: 'top_logprobs' must be 0.",
    );
  const { messages, images, imageUuids } = chatMessages(body["messages"]);
  return {
    ...sampling,
    logprobs: optionalBoolean(body, "logprobs") ?? false,
    messages,
    images,
    imageUuids,
  };
};

/**
 * Decode a `/v1/completions` body: `prompt` (a string, a list of token ids, or a one-element list
 * of either), the sampling fields, `max_tokens` (default 16) and `logprobs` (0: the sampled
 * tokens' log-probs; `null`: none). Throws a 400 {@link ServeRequestError} naming the field.
 *
 * @since 0.1.0
 * @category serve
 */
export const decodeCompletionRequest = (input: unknown): CompletionRequest => {
  const body = requestObject(input);
  const sampling = samplingRequest(body, ["max_tokens"]);
  if (body["echo"] !== undefined && body["echo"] !== null && body["echo"] !== false)
    throw invalidRequest(
      "echo",
      "'echo' must be a boolean (true scores the prompt: see decodeScoringRequest).",
    );
  const logprobs = optionalNumber(
    body,
    "logprobs",
    (value) => isInteger(value) && value >= 0 && value <= 5,
    "an integer in 0…5",
  );
  if (logprobs !== undefined && logprobs > 0)
    throw invalidRequest(
      "logprobs",
      "apo-serve returns the sampled tokens' log-probs only: 'logprobs' must be 0 (or null).",
    );
  let prompt = body["prompt"];
  if (
    Array.isArray(prompt) &&
    prompt.length === 1 &&
    (typeof prompt[0] === "string" || Array.isArray(prompt[0]))
  )
    prompt = prompt[0];
  const isTokenList =
    Array.isArray(prompt) &&
    prompt.length > 0 &&
    prompt.every((id) => typeof id === "number" && Number.isInteger(id) && id >= 0);
  if (!(typeof prompt === "string" && prompt.length > 0) && !isTokenList)
    throw invalidRequest(
      "prompt",
      "'prompt' must be a non-empty string or a non-empty list of token ids (one prompt per request).",
    );
  return {
    ...sampling,
    maxTokens: sampling.maxTokens ?? 16,
    logprobs: logprobs !== undefined,
    prompt: prompt as string | number[],
  };
};

/**
 * A decoded scoring request: `/v1/completions` with `echo: true`, `max_tokens: 0` and `logprobs: 0`
 * on token-id prompts — the log-probs of the prompts' own tokens (OpenAI's legacy way of scoring a
 * text, vLLM's `prompt_logprobs`), from `logprob_start_len` on (SGLang's name for it).
 *
 * @since 0.2.0
 * @category serve
 */
export interface ScoringRequest {
  /** The served model, the reference model or a loaded LoRA adapter; absent: the base model. */
  readonly model: string | undefined;
  /** One token-id list per prompt (OpenAI's `prompt` as a list of token lists). */
  readonly prompts: ReadonlyArray<ReadonlyArray<number>>;
  /** Log-probs at this temperature (0: 1, as for greedy sampling). */
  readonly temperature: number;
  /** First position whose log-prob is returned (earlier ones are `null`; the first token always is). */
  readonly logprobStartLength: number;
  /**
   * vLLM's `multi_modal_uuids.image`: the images of the prompts' image tokens, by the `uuid` they
   * had in a recent chat request to this server (its processed images are reused).
   */
  readonly imageUuids: ReadonlyArray<string> | undefined;
  readonly returnTokenIds: boolean;
  readonly tokensAsIds: boolean;
}

/** Most prompts in one scoring request. */
const MAX_SCORED_PROMPTS = 128;

/**
 * Whether a `/v1/completions` body asks to score its prompt (`echo: true`) rather than to sample.
 *
 * @since 0.2.0
 * @category serve
 */
export const isScoringRequest = (body: unknown): boolean => isRecord(body) && body["echo"] === true;

/**
 * Decode a scoring `/v1/completions` body: `prompt` (a list of token ids, or a list of such lists),
 * `echo: true`, `max_tokens: 0`, `logprobs: 0`, `model`, `temperature`, and SGLang's
 * `logprob_start_len`. Throws a 400 {@link ServeRequestError} naming the field.
 *
 * @since 0.2.0
 * @category serve
 */
export const decodeScoringRequest = (input: unknown): ScoringRequest => {
  const body = requestObject(input);
  if (body["stream"] === true)
    throw invalidRequest("stream", "apo-serve does not stream: send 'stream': false (or leave it out).");
  const model = body["model"];
  if (model !== undefined && model !== null && (typeof model !== "string" || model.length === 0))
    throw invalidRequest("model", "'model' must be a non-empty string.");
  if (body["max_tokens"] !== 0)
    throw invalidRequest(
      "max_tokens",
      "With 'echo', apo-serve scores the prompt only: 'max_tokens' must be 0.",
    );
  if (body["logprobs"] !== 0)
    throw invalidRequest(
      "logprobs",
      "With 'echo', 'logprobs' must be 0: apo-serve returns the prompt tokens' own log-probs.",
    );
  optionalNumber(body, "n", (value) => value === 1, "1 when scoring");
  const temperature =
    optionalNumber(body, "temperature", (value) => value >= 0 && value <= 100, "a number ≥ 0") ?? 1;
  const start =
    optionalNumber(body, "logprob_start_len", (value) => isInteger(value) && value >= 0, "an integer ≥ 0") ??
    0;
  const isTokens = (value: unknown): value is number[] =>
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((id) => typeof id === "number" && Number.isInteger(id) && id >= 0);
  const prompt = body["prompt"];
  const prompts = isTokens(prompt)
    ? [prompt]
    : Array.isArray(prompt) && prompt.length > 0 && prompt.every(isTokens)
      ? (prompt as number[][])
      : undefined;
  if (prompts === undefined)
    throw invalidRequest(
      "prompt",
      "With 'echo', 'prompt' must be a non-empty list of token ids or a list of such lists.",
    );
  if (prompts.length > MAX_SCORED_PROMPTS)
    throw invalidRequest("prompt", `At most ${MAX_SCORED_PROMPTS} prompts per scoring request.`);
  const uuids = body["multi_modal_uuids"];
  const imageUuids = isRecord(uuids) ? uuids["image"] : uuids;
  if (
    imageUuids !== undefined &&
    imageUuids !== null &&
    !(Array.isArray(imageUuids) && imageUuids.every((uuid) => typeof uuid === "string" && uuid.length > 0))
  )
    throw invalidRequest("multi_modal_uuids", "'multi_modal_uuids' must be {\"image\": [uuid, ...]}.");
  return {
    model: typeof model === "string" ? model : undefined,
    imageUuids: Array.isArray(imageUuids) ? (imageUuids as string[]) : undefined,
    prompts,
    temperature,
    logprobStartLength: start,
    returnTokenIds: optionalBoolean(body, "return_token_ids") ?? false,
    tokensAsIds: optionalBoolean(body, "return_tokens_as_token_ids") ?? false,
  };
};

const requiredString = (body: Record<string, unknown>, field: string): string => {
  const value = body[field];
  if (typeof value !== "string" || value.length === 0)
    throw invalidRequest(field, `'${field}' is required (a non-empty string).`);
  return value;
};

/**
 * Decode `{ lora_name, lora_path }` (vLLM's `/v1/load_lora_adapter`, SGLang's `/load_lora_adapter`).
 *
 * @since 0.1.0
 * @category serve
 */
export const decodeLoadLoraRequest = (input: unknown): { readonly name: string; readonly path: string } => {
  const body = requestObject(input);
  return { name: requiredString(body, "lora_name"), path: requiredString(body, "lora_path") };
};

/**
 * Decode `{ lora_name }` (vLLM's `/v1/unload_lora_adapter`, SGLang's `/unload_lora_adapter`; vLLM's
 * optional `lora_int_id` is ignored).
 *
 * @since 0.1.0
 * @category serve
 */
export const decodeUnloadLoraRequest = (input: unknown): { readonly name: string } => ({
  name: requiredString(requestObject(input), "lora_name"),
});

/**
 * Decode SGLang's `/update_weights_from_disk` body: `model_path` (a checkpoint directory of the
 * served architecture), optional `load_format` (`auto`/`safetensors` only) and `weight_version`.
 *
 * @since 0.1.0
 * @category serve
 */
export const decodeUpdateWeightsRequest = (
  input: unknown,
): { readonly modelPath: string; readonly weightVersion: string | undefined } => {
  const body = requestObject(input);
  const modelPath = requiredString(body, "model_path");
  const format = body["load_format"];
  if (format !== undefined && format !== null && format !== "auto" && format !== "safetensors")
    throw invalidRequest(
      "load_format",
      `apo-serve reads safetensors checkpoints: 'load_format' must be "auto" or "safetensors".`,
    );
  const version = body["weight_version"];
  if (version !== undefined && version !== null && typeof version !== "string")
    throw invalidRequest("weight_version", "'weight_version' must be a string.");
  return { modelPath, weightVersion: typeof version === "string" ? version : undefined };
};
