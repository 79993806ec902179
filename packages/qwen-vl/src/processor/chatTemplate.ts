import type { ChatMessage } from "@apo-rl/core";
import { Template } from "@huggingface/jinja";
import { ProcessorConfigError } from "./errors.js";

/**
 * The chat template that Qwen2.5-VL-Instruct checkpoints ship in `chat_template.json`: the default
 * system prompt "You are a helpful assistant.", one `<|vision_start|><|image_pad|><|vision_end|>` per
 * image item (with `Picture N: ` labels when `add_vision_id` is set), and the
 * `<|im_start|>assistant\n` generation prompt. Used when a directory has no template of its own.
 *
 * @since 0.1.0
 * @category chat template
 */
export const QWEN2_5_VL_CHAT_TEMPLATE: string =
  "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message in messages %}{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] == 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

/**
 * Options of {@link renderChatTemplate}.
 *
 * @since 0.1.0
 * @category chat template
 */
export interface ChatTemplateOptions {
  /** Append the assistant header (`<|im_start|>assistant\n`), as for generation. Default `false`. */
  readonly addGenerationPrompt?: boolean;
  /** Label images `Picture 1: `, `Picture 2: `, … Default `false`. */
  readonly addVisionId?: boolean;
  /** Extra template variables (`bos_token`, tools, …). */
  readonly variables?: Readonly<Record<string, unknown>>;
}

/**
 * A parsed chat template and where it came from.
 *
 * @since 0.1.0
 * @category chat template
 */
export interface ChatTemplate {
  readonly source: string;
  readonly text: string;
  render(messages: ReadonlyArray<ChatMessage>, options?: ChatTemplateOptions): string;
}

/**
 * Parse a Jinja chat template with `@huggingface/jinja` (a sandboxed interpreter: no `eval`).
 *
 * @throws {ProcessorConfigError} when the template does not parse, or (from `render`) fails to render.
 * @since 0.1.0
 * @category chat template
 */
export const compileChatTemplate = (text: string, source = "chat template"): ChatTemplate => {
  let template: Template;
  try {
    template = new Template(text);
  } catch (cause) {
    throw new ProcessorConfigError({
      file: source,
      field: "chat_template",
      reason: `does not parse: ${String(cause)}`,
    });
  }
  return {
    source,
    text,
    render: (messages, options = {}) => {
      try {
        return template.render({
          ...options.variables,
          messages: messages.map((message) => ({ ...message })),
          add_generation_prompt: options.addGenerationPrompt ?? false,
          add_vision_id: options.addVisionId ?? false,
        });
      } catch (cause) {
        throw new ProcessorConfigError({
          file: source,
          field: "chat_template",
          reason: `render failed: ${String(cause)}`,
        });
      }
    },
  };
};
