import { Tokenizer } from "@huggingface/tokenizers";
import { isRecord } from "../internal/processor/isRecord.js";
import { ProcessorConfigError } from "./errors.js";

/**
 * Ids of the special tokens the Qwen2.5-VL prompt format uses.
 *
 * @since 0.1.0
 * @category tokenizer
 */
export interface QwenVLSpecialTokens {
  /** `<|im_start|>` (151644 in Qwen). */
  readonly imStart: number;
  /** `<|im_end|>` (151645), the end of every turn and the chat EOS. */
  readonly imEnd: number;
  /** `<|endoftext|>` (151643), the pad token and the second EOS. */
  readonly endOfText: number;
  /** `<|vision_start|>` (151652). */
  readonly visionStart: number;
  /** `<|vision_end|>` (151653). */
  readonly visionEnd: number;
  /** `<|image_pad|>` (151655), the placeholder the image features replace. */
  readonly imagePad: number;
}

/**
 * The special tokens a tokenizer must have (as added tokens) for the Qwen2.5-VL prompt format.
 *
 * @since 0.1.0
 * @category tokenizer
 */
export const REQUIRED_SPECIAL_TOKENS = {
  imStart: "<|im_start|>",
  imEnd: "<|im_end|>",
  endOfText: "<|endoftext|>",
  visionStart: "<|vision_start|>",
  visionEnd: "<|vision_end|>",
  imagePad: "<|image_pad|>",
} as const satisfies Record<keyof QwenVLSpecialTokens, string>;

/**
 * A Hugging Face tokenizer (`tokenizer.json` + `tokenizer_config.json`) with the ids of the Qwen2.5-VL
 * special tokens.
 *
 * @since 0.1.0
 * @category tokenizer
 */
export interface QwenVLTokenizer {
  /** Token ids of `text`. Added tokens (`<|im_start|>`, `<|image_pad|>`, …) are matched atomically; no
   * BOS/EOS is added unless `addSpecialTokens` is set and the tokenizer's post-processor adds them. */
  encode(text: string, options?: { readonly addSpecialTokens?: boolean }): Array<number>;
  /** Text of `ids`; `skipSpecialTokens` drops the tokens marked special (as HF). */
  decode(ids: ArrayLike<number>, options?: { readonly skipSpecialTokens?: boolean }): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  readonly specialTokens: QwenVLSpecialTokens;
  /** Ids that end a generation: `<|im_end|>` and `<|endoftext|>`. */
  readonly eosTokenIds: ReadonlyArray<number>;
  /** The pad token of `tokenizer_config.json` (`<|endoftext|>` for Qwen). */
  readonly padTokenId: number;
  /** Other `tokenizer_config.json` strings the chat template may use (`bos_token`, `eos_token`, …). */
  readonly templateTokens: Readonly<Record<string, string>>;
  /** The underlying `@huggingface/tokenizers` instance. */
  readonly backend: Tokenizer;
}

const tokenText = (value: unknown): string | undefined =>
  typeof value === "string"
    ? value
    : isRecord(value) && typeof value["content"] === "string"
      ? value["content"]
      : undefined;

const TEMPLATE_TOKEN_KEYS = ["bos_token", "eos_token", "pad_token", "unk_token"] as const;

const templateTokensOf = (config: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(
    TEMPLATE_TOKEN_KEYS.flatMap((key) => {
      const text = tokenText(config[key]);
      return text === undefined ? [] : [[key, text]];
    }),
  );

const specialTokenIds = (backend: Tokenizer, file: string): QwenVLSpecialTokens => {
  const added = new Map([...backend.get_added_tokens_decoder()].map(([id, token]) => [token.content, id]));
  const lookup = (token: string): number => {
    const id = added.get(token);
    if (id === undefined) {
      throw new ProcessorConfigError({
        file,
        field: "added_tokens",
        reason: `the tokenizer must have ${token} as an added token`,
      });
    }
    return id;
  };
  return {
    imStart: lookup(REQUIRED_SPECIAL_TOKENS.imStart),
    imEnd: lookup(REQUIRED_SPECIAL_TOKENS.imEnd),
    endOfText: lookup(REQUIRED_SPECIAL_TOKENS.endOfText),
    visionStart: lookup(REQUIRED_SPECIAL_TOKENS.visionStart),
    visionEnd: lookup(REQUIRED_SPECIAL_TOKENS.visionEnd),
    imagePad: lookup(REQUIRED_SPECIAL_TOKENS.imagePad),
  };
};

/**
 * Build a tokenizer from the parsed contents of `tokenizer.json` and `tokenizer_config.json`.
 *
 * @throws {ProcessorConfigError} when the files are malformed or a required special token is missing.
 * @since 0.1.0
 * @category tokenizer
 */
export const makeQwenVLTokenizer = (
  tokenizerJson: unknown,
  tokenizerConfig: unknown = {},
  file = "tokenizer.json",
): QwenVLTokenizer => {
  if (!isRecord(tokenizerJson) || !isRecord(tokenizerJson["model"])) {
    throw new ProcessorConfigError({ file, field: "model", reason: "not a Hugging Face tokenizer.json" });
  }
  const model = tokenizerJson["model"];
  const given = isRecord(tokenizerConfig) ? tokenizerConfig : {};
  // tokenizers.js maps unknown words of a WordLevel model through the config's unk_token: default it
  // to the model's own, as the Rust tokenizers library does.
  const config =
    given["unk_token"] === undefined && typeof model["unk_token"] === "string"
      ? { ...given, unk_token: model["unk_token"] }
      : given;
  let backend: Tokenizer;
  try {
    backend = new Tokenizer(tokenizerJson, config);
  } catch (cause) {
    throw new ProcessorConfigError({ file, field: "", reason: `unsupported tokenizer: ${String(cause)}` });
  }
  const specialTokens = specialTokenIds(backend, file);
  const templateTokens = templateTokensOf(config);
  const padToken = templateTokens["pad_token"];
  const padTokenId =
    (padToken === undefined ? undefined : backend.token_to_id(padToken)) ?? specialTokens.endOfText;
  return {
    encode: (text, options = {}) => {
      const ids: Array<number> = backend.encode(text, {
        add_special_tokens: options.addSpecialTokens ?? false,
      }).ids;
      const unknown = ids.findIndex((id: number) => !Number.isInteger(id));
      if (unknown >= 0) {
        throw new ProcessorConfigError({
          file,
          field: "model.unk_token",
          reason: `token ${unknown} of the text is not in the vocabulary and the tokenizer has no unk_token`,
        });
      }
      return ids;
    },
    decode: (ids, options = {}) =>
      ids.length === 0
        ? ""
        : backend.decode(Array.from(ids), { skip_special_tokens: options.skipSpecialTokens ?? false }),
    tokenToId: (token) => backend.token_to_id(token),
    idToToken: (id) => backend.id_to_token(id),
    specialTokens,
    eosTokenIds: [specialTokens.imEnd, specialTokens.endOfText],
    padTokenId,
    templateTokens,
    backend,
  };
};
