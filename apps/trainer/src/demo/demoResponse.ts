import type { ChatMessage } from "@apo-rl/core";

const QUESTION = /^How many (.+?) shapes are there(?: in total)?\?/;

/**
 * The text of a request's last user message (its text parts joined by spaces).
 *
 * @since 0.1.0
 * @category demo
 */
export const promptText = (messages: ReadonlyArray<ChatMessage>): string => {
  const user = [...messages].reverse().find((message) => message.role === "user");
  if (user === undefined) return "";
  if (typeof user.content === "string") return user.content;
  return user.content
    .flatMap((part) => (part.type === "text" ? [part.text] : []))
    .join(" ")
    .trim();
};

/**
 * The response the demo policy is fine-tuned to give, in the View-R1 format:
 * `<think> count the red shapes </think> <answer> 3 </answer>` for "How many red shapes are
 * there?" with answer 3 (the `sum` variant thinks "count the red and blue shapes"). Throws when the
 * question is not one of the synthetic counting task's.
 *
 * @since 0.1.0
 * @category demo
 */
export const demoResponse = (question: string, answer: string): string => {
  const match = QUESTION.exec(question.trim());
  if (match === null)
    throw new Error(`demoResponse: ${JSON.stringify(question)} is not a synthetic counting question`);
  return `<think> count the ${match[1]} shapes </think> <answer> ${answer.trim()} </answer>`;
};
