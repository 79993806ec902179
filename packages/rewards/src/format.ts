import { decodeSync } from "@apo-rl/core";
import { Schema } from "effect";
import { tooLong } from "./internal/inputLimit.js";
import { DEFAULT_MAX_INPUT_LENGTH } from "./limits.js";
import type { BuiltinVerifier } from "./VerifierSpec.js";

/**
 * Options of {@link format}.
 *
 * @since 0.1.0
 * @category verifiers
 */
export const FormatOptions = Schema.Struct({
  /** Require the `<think>` block (default true); with false only the `<answer>` block is required. */
  requireThink: Schema.optionalKey(Schema.Boolean),
  maxInputLength: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThan(0))),
});

/**
 * @since 0.1.0
 * @category verifiers
 */
export type FormatOptions = typeof FormatOptions.Type;

const decodeOptions = decodeSync(FormatOptions, "format options");

const tags = ["<think>", "</think>", "<answer>", "</answer>"] as const;

const countOccurrences = (haystack: string, needle: string): number => {
  let count = 0;
  for (
    let index = haystack.indexOf(needle);
    index !== -1;
    index = haystack.indexOf(needle, index + needle.length)
  ) {
    count += 1;
  }
  return count;
};

/**
 * Why a response is not `<think>…</think><answer>…</answer>` (e.g. `duplicated <answer>`,
 * `empty <answer>`, `text after </answer>`), or `undefined` when it is.
 *
 * @since 0.1.0
 * @category verifiers
 */
export const formatViolation = (response: string, requireThink: boolean): string | undefined => {
  const lower = response.toLowerCase();
  for (const tag of tags) {
    const count = countOccurrences(lower, tag);
    const required = requireThink || !tag.includes("think");
    if (count > 1) return `duplicated ${tag}`;
    if (count === 0 && required) return `missing ${tag}`;
  }
  const text = response.trim();
  const thinkOpen = lower.indexOf("<think>");
  const thinkClose = lower.indexOf("</think>");
  const answerOpen = lower.indexOf("<answer>");
  const answerClose = lower.indexOf("</answer>");
  if (thinkOpen !== -1 || thinkClose !== -1) {
    if (thinkOpen === -1 || thinkClose === -1) return "unclosed <think>";
    if (!text.toLowerCase().startsWith("<think>")) return "text before <think>";
    if (thinkClose < thinkOpen) return "</think> before <think>";
    if (answerOpen < thinkClose) return "<answer> inside or before <think>";
    if (response.slice(thinkClose + "</think>".length, answerOpen).trim() !== "")
      return "text between </think> and <answer>";
  } else if (!text.toLowerCase().startsWith("<answer>")) return "text before <answer>";
  if (answerClose < answerOpen) return "</answer> before <answer>";
  if (response.slice(answerOpen + "<answer>".length, answerClose).trim() === "") return "empty <answer>";
  if (response.slice(answerClose + "</answer>".length).trim() !== "") return "text after </answer>";
  return undefined;
};

/**
 * Format verifier: reward 1 for exactly one `<think>` block followed by exactly one non-empty
 * `<answer>` block and nothing after it, else 0 with the violation in `details.reason`. `correct`
 * is always false: format is never accuracy. The reference is ignored.
 *
 * @since 0.1.0
 * @category verifiers
 */
export const format = (options: FormatOptions = {}): BuiltinVerifier => {
  const decoded = decodeOptions(options);
  const requireThink = decoded.requireThink ?? true;
  const maxInputLength = decoded.maxInputLength ?? DEFAULT_MAX_INPUT_LENGTH;
  return {
    specificationVersion: "v1",
    name: "format",
    spec: { kind: "format", options: decoded },
    verify: (response) => {
      const limited = tooLong(response, "", maxInputLength);
      if (limited !== undefined) return limited;
      const violation = formatViolation(response, requireThink);
      return {
        reward: violation === undefined ? 1 : 0,
        correct: false,
        details: { reason: violation ?? "well-formed" },
      };
    },
  };
};
