import type { Candidate } from "./extract.js";

/**
 * String-level normalisation of an extracted answer before tokenizing: spacing commands, degrees,
 * percent, currency, thousands separators, trailing punctuation. Every pattern here is linear.
 */
export const normalizeAnswer = (candidate: Candidate): string => {
  let text = candidate.text
    .replace(/\\q?quad(?=[A-Za-z])/g, "\\quad ")
    .replace(/,\\!\s*/g, ",")
    .replace(/\s*\{\s*,\s*\}/g, ",")
    .replace(/\\!/g, "")
    .replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree/g, "")
    .replace(/\\%|%/g, " ")
    .replace(/\\\$|\$|€|£|¥/g, " ")
    .replace(
      /(^|[^\d.,([])([1-9]\d{0,2}(?:,\d{3})+)(?![\d,)\]])/g,
      (_, before: string, number: string) => before + number.replace(/,/g, ""),
    );
  if (candidate.source === "plain" || candidate.source === "whole") {
    const trimmed = text.trim();
    const spaced = /^(-?\d{1,3})((?: \d{3})+)(\.\d+)?$/.exec(trimmed);
    if (spaced !== null) text = trimmed.replace(/ /g, "");
    else if (/^-?\d+,\d+$/.test(trimmed)) text = trimmed.replace(",", ".");
  }
  return stripTrailingPunctuation(text);
};

const stripTrailingPunctuation = (text: string): string => {
  let end = text.length;
  while (end > 0 && /[\s.,;:]/.test(text[end - 1] as string)) {
    if (text[end - 2] === "\\") break;
    end -= 1;
  }
  let start = 0;
  while (start < end && /[\s,;:]/.test(text[start] as string)) start += 1;
  return text.slice(start, end);
};
