import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeSync, InvalidInputError } from "@apo-rl/core";
import { Schema } from "effect";

const TokenId = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));

/**
 * The fields of a checkpoint's `generation_config.json` the policy uses: its end-of-sequence ids
 * (`eos_token_id`, one id or a list) and pad id. Other keys (temperature, top_k, …) are ignored:
 * the trainer passes sampling options explicitly.
 *
 * @since 0.1.0
 * @category generation
 */
export const GenerationConfigJson = Schema.Struct({
  eos_token_id: Schema.optionalKey(Schema.NullOr(Schema.Union([TokenId, Schema.Array(TokenId)]))),
  pad_token_id: Schema.optionalKey(Schema.NullOr(TokenId)),
});

/**
 * End-of-sequence and pad ids for generation (added to the tokenizer's `<|im_end|>` and
 * `<|endoftext|>`).
 *
 * @since 0.1.0
 * @category generation
 */
export interface QwenVLGenerationConfig {
  readonly eosTokenIds?: ReadonlyArray<number>;
  readonly padTokenId?: number;
}

/**
 * Decode a parsed `generation_config.json`; a bad field throws core's `InvalidInputError` naming it.
 *
 * @since 0.1.0
 * @category generation
 */
export const decodeGenerationConfig = (json: unknown): QwenVLGenerationConfig => {
  const known =
    typeof json === "object" && json !== null && !Array.isArray(json)
      ? Object.fromEntries(
          Object.entries(json).filter(([key]) => key === "eos_token_id" || key === "pad_token_id"),
        )
      : json;
  const decoded = decodeSync(GenerationConfigJson, "generation_config.json")(known);
  const eos = decoded.eos_token_id;
  return {
    ...(eos === undefined || eos === null ? {} : { eosTokenIds: typeof eos === "number" ? [eos] : eos }),
    ...(decoded.pad_token_id === undefined || decoded.pad_token_id === null
      ? {}
      : { padTokenId: decoded.pad_token_id }),
  };
};

/**
 * Read `<directory>/generation_config.json`; an absent file gives `{}`.
 *
 * @since 0.1.0
 * @category generation
 */
export const readGenerationConfig = async (directory: string): Promise<QwenVLGenerationConfig> => {
  let text: string;
  try {
    text = await readFile(join(directory, "generation_config.json"), "utf8");
  } catch {
    return {};
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    const reason = `not valid JSON: ${(cause as Error).message}`;
    throw new InvalidInputError({
      subject: join(directory, "generation_config.json"),
      field: "",
      reason,
      problems: [{ field: "", reason }],
    });
  }
  return decodeGenerationConfig(json);
};
