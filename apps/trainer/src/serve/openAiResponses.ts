import { randomBytes } from "node:crypto";
import type { ServeRequestError } from "./errors.js";
import type { SamplingRequest, ScoringRequest } from "./openAiRequests.js";
import type { GeneratedChoice, GenerationResult, ScoredPrompt, ServedModel } from "./ServeEngine.js";

const created = () => Math.floor(Date.now() / 1000);
const responseId = (prefix: string) => `${prefix}-${randomBytes(12).toString("hex")}`;

const tokenLabel = (choice: GeneratedChoice, index: number, request: SamplingRequest) =>
  request.tokensAsIds ? `token_id:${choice.tokenIds[index]}` : choice.tokens[index]!;

const usage = (result: GenerationResult) => {
  const completion = result.choices.reduce((sum, choice) => sum + choice.tokenIds.length, 0);
  return {
    prompt_tokens: result.promptTokenIds.length,
    completion_tokens: completion,
    total_tokens: result.promptTokenIds.length + completion,
  };
};

/**
 * The `/v1/chat/completions` response (`object: "chat.completion"`): one choice per sample with the
 * assistant message, `logprobs.content[]` (`token`, `logprob`, `bytes`, `top_logprobs: []`) when
 * asked, `finish_reason`, vLLM's `token_ids` / `prompt_token_ids` when `return_token_ids`,
 * apo-serve's `reference_logprobs` when the request named a `reference_model`, and usage.
 *
 * @since 0.1.0
 * @category serve
 */
export const chatCompletionResponse = (result: GenerationResult, request: SamplingRequest) => ({
  id: responseId("chatcmpl"),
  object: "chat.completion",
  created: created(),
  model: result.model,
  choices: result.choices.map((choice, index) => ({
    index,
    message: { role: "assistant", content: choice.text },
    logprobs: request.logprobs
      ? {
          content: choice.tokenIds.map((_, position) => {
            const token = tokenLabel(choice, position, request);
            return {
              token,
              logprob: choice.logprobs[position]!,
              bytes: [...Buffer.from(token, "utf8")],
              top_logprobs: [],
            };
          }),
        }
      : null,
    finish_reason: choice.finishReason,
    ...(request.returnTokenIds ? { token_ids: choice.tokenIds } : {}),
    ...(choice.referenceLogprobs === undefined ? {} : { reference_logprobs: choice.referenceLogprobs }),
  })),
  usage: usage(result),
  ...(request.returnTokenIds ? { prompt_token_ids: result.promptTokenIds } : {}),
});

/** Each token's character offset in the concatenated text (the legacy completions' `text_offset`). */
const textOffsets = (tokens: ReadonlyArray<string>): ReadonlyArray<number> => {
  const offsets: number[] = [];
  let offset = 0;
  for (const token of tokens) {
    offsets.push(offset);
    offset += token.length;
  }
  return offsets;
};

/**
 * The `/v1/completions` response (`object: "text_completion"`): `text`, `logprobs` (`tokens`,
 * `token_logprobs`, `top_logprobs: null`, `text_offset`) when asked, `finish_reason`, apo-serve's
 * `reference_logprobs` when the request named a `reference_model`, usage.
 *
 * @since 0.1.0
 * @category serve
 */
export const completionResponse = (result: GenerationResult, request: SamplingRequest) => ({
  id: responseId("cmpl"),
  object: "text_completion",
  created: created(),
  model: result.model,
  choices: result.choices.map((choice, index) => {
    const tokens = choice.tokenIds.map((_, position) => tokenLabel(choice, position, request));
    return {
      index,
      text: choice.text,
      logprobs: request.logprobs
        ? { tokens, token_logprobs: choice.logprobs, top_logprobs: null, text_offset: textOffsets(tokens) }
        : null,
      finish_reason: choice.finishReason,
      ...(request.returnTokenIds
        ? { token_ids: choice.tokenIds, prompt_token_ids: result.promptTokenIds }
        : {}),
      ...(choice.referenceLogprobs === undefined ? {} : { reference_logprobs: choice.referenceLogprobs }),
    };
  }),
  usage: usage(result),
});

/**
 * The response to a scoring `/v1/completions` request (`echo: true`, `max_tokens: 0`): the
 * `text_completion` shape with one choice per prompt, whose `text` is the echoed prompt and whose
 * `logprobs.token_logprobs` hold each prompt token's log-prob (`null` for the first token and before
 * `logprob_start_len`), `finish_reason: "length"`, and no completion tokens.
 *
 * @since 0.2.0
 * @category serve
 */
export const scoringResponse = (
  model: string,
  scored: ReadonlyArray<ScoredPrompt>,
  request: ScoringRequest,
) => {
  const promptTokens = scored.reduce((sum, prompt) => sum + prompt.tokenIds.length, 0);
  return {
    id: responseId("cmpl"),
    object: "text_completion",
    created: created(),
    model,
    choices: scored.map((prompt, index) => {
      const tokens = prompt.tokenIds.map((id, position) =>
        request.tokensAsIds ? `token_id:${id}` : prompt.tokens[position]!,
      );
      return {
        index,
        text: prompt.text,
        logprobs: {
          tokens,
          token_logprobs: prompt.logprobs,
          top_logprobs: null,
          text_offset: textOffsets(tokens),
        },
        finish_reason: "length",
        ...(request.returnTokenIds ? { token_ids: [], prompt_token_ids: prompt.tokenIds } : {}),
      };
    }),
    usage: { prompt_tokens: promptTokens, completion_tokens: 0, total_tokens: promptTokens },
  };
};

/**
 * `/v1/models`: `{ object: "list", data: [{ id, object: "model", created, owned_by, root, parent,
 * max_model_len }] }`, the base model first, then each LoRA adapter (its `parent` is the base).
 *
 * @since 0.1.0
 * @category serve
 */
export const modelListResponse = (models: ReadonlyArray<ServedModel>) => ({
  object: "list",
  data: models.map((model) => ({
    id: model.id,
    object: "model",
    created: created(),
    owned_by: "apo-rl",
    root: model.root,
    parent: model.parent,
    max_model_len: model.maxModelLength,
  })),
});

/**
 * The OpenAI error body: `{ error: { message, type, param, code } }` (`code` is the HTTP status).
 *
 * @since 0.1.0
 * @category serve
 */
export const errorResponse = (error: Pick<ServeRequestError, "status" | "type" | "param" | "reason">) => ({
  error: { message: error.reason, type: error.type, param: error.param, code: error.status },
});
