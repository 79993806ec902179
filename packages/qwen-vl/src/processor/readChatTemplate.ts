import { join } from "node:path";
import { isRecord, readOptionalJson, readOptionalText } from "../internal/processor/readJsonFile.js";
import { type ChatTemplate, compileChatTemplate, QWEN2_5_VL_CHAT_TEMPLATE } from "./chatTemplate.js";
import { ProcessorConfigError } from "./errors.js";

const templateFrom = (value: unknown): string | undefined => {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    const named = value.filter(isRecord);
    const chosen = named.find((entry) => entry["name"] === "default") ?? named[0];
    return typeof chosen?.["template"] === "string" ? chosen["template"] : undefined;
  }
  return undefined;
};

/** The chat template of one directory, or `undefined` when it has none. */
const findChatTemplate = (directory: string): ChatTemplate | undefined => {
  const jinjaFile = join(directory, "chat_template.jinja");
  const fromJinja = readOptionalText(jinjaFile);
  if (fromJinja !== undefined) return compileChatTemplate(fromJinja, jinjaFile);
  const jsonFile = join(directory, "chat_template.json");
  const json = readOptionalJson(jsonFile);
  if (json !== undefined) {
    const text = isRecord(json) ? templateFrom(json["chat_template"]) : undefined;
    if (text === undefined) {
      throw new ProcessorConfigError({
        file: jsonFile,
        field: "chat_template",
        reason: "expected a template string",
      });
    }
    return compileChatTemplate(text, jsonFile);
  }
  const configFile = join(directory, "tokenizer_config.json");
  const config = readOptionalJson(configFile);
  const fromConfig = isRecord(config) ? templateFrom(config["chat_template"]) : undefined;
  return fromConfig === undefined ? undefined : compileChatTemplate(fromConfig, configFile);
};

/**
 * Find the chat template of the first directory that has one, looking in each in the order HF's
 * processor uses: `chat_template.jinja`, then `chat_template.json`, then the `chat_template` of
 * `tokenizer_config.json` (its `default` entry when it is a list). Without any,
 * {@link QWEN2_5_VL_CHAT_TEMPLATE}.
 *
 * @since 0.1.0
 * @category chat template
 */
export const readChatTemplate = (...directories: ReadonlyArray<string>): ChatTemplate => {
  for (const directory of directories) {
    const template = findChatTemplate(directory);
    if (template !== undefined) return template;
  }
  return compileChatTemplate(QWEN2_5_VL_CHAT_TEMPLATE, "built-in Qwen2.5-VL chat template");
};
