import { isStackOverflow, readAnswer } from "./internal/answer.js";
import { extractChoiceLetter } from "./internal/choiceLetter.js";
import { equivalent } from "./internal/equivalence.js";
import type { ExtractionMode } from "./internal/extract.js";
import { answerTagContent } from "./internal/extract.js";
import { DEFAULT_MAX_INPUT_LENGTH, DEFAULT_RELATIVE_TOLERANCE } from "./limits.js";

/**
 * Options of {@link isEquivalent} and of the `mathAnswer` verifier.
 *
 * @since 0.1.0
 * @category math
 */
export interface EquivalenceOptions {
  /** Where answers are looked for: LaTeX (`$…$`, `\(…\)`, `\[…\]`, `\boxed{}`) and/or plain text. Default both. */
  readonly extraction?: ReadonlyArray<"latex" | "expr">;
  /** Relative tolerance for numeric comparison of constants. Default `1e-6`. */
  readonly relativeTolerance?: number;
  /** Letters of a multiple-choice question, e.g. `"ABCD"`; a gold answer that is one letter switches to letter matching. Default `"ABCDE"`. */
  readonly choiceLetters?: string;
  /** Longest gold or predicted text accepted, in characters. Default 20 000. */
  readonly maxInputLength?: number;
}

/**
 * The verdict of {@link explainEquivalence}: whether the answers match and what was compared.
 *
 * @since 0.1.0
 * @category math
 */
export interface EquivalenceResult {
  readonly equivalent: boolean;
  /**
   * `match`, `mismatch`, `no-answer`, `unparseable-answer`, `too-deep` (nested or chained beyond the
   * parser's depth bound), `invalid-reference`, `too-long`; `internal-error` should never be seen.
   */
  readonly reason: string;
  readonly goldAnswer?: string;
  readonly predictedAnswer?: string;
  /** Why the reference could not be read (reason `invalid-reference`), e.g. `unparseable: unbalanced braces`. */
  readonly detail?: string;
}

const singleLetter = /^\s*\(?\s*([A-Z])\s*\)?\s*\.?\s*$/;

const defaultModes: ReadonlyArray<ExtractionMode> = ["latex", "expr"];

/**
 * Compare a predicted response with a gold answer and say why. The gold answer leads (an interval
 * predicted for an inequality gold is accepted, the comparison is not symmetric in general).
 *
 * @since 0.1.0
 * @category math
 */
export const explainEquivalence = (
  gold: string,
  predicted: string,
  options: EquivalenceOptions = {},
): EquivalenceResult => {
  try {
    return explain(gold, predicted, options);
  } catch (error) {
    // Never throws: the depth bounds should make this unreachable, but a verdict beats a crash.
    return {
      equivalent: false,
      reason: isStackOverflow(error) ? "too-deep" : "internal-error",
    };
  }
};

const explain = (gold: string, predicted: string, options: EquivalenceOptions): EquivalenceResult => {
  const maxLength = options.maxInputLength ?? DEFAULT_MAX_INPUT_LENGTH;
  if (gold.length > maxLength || predicted.length > maxLength)
    return { equivalent: false, reason: "too-long" };
  const letters = options.choiceLetters ?? "ABCDE";
  const goldLetter = singleLetter.exec(gold)?.[1];
  if (goldLetter !== undefined && letters.includes(goldLetter)) {
    const predictedLetter = extractChoiceLetter(answerTagContent(predicted) ?? predicted, letters);
    if (predictedLetter === undefined)
      return { equivalent: false, reason: "no-answer", goldAnswer: goldLetter };
    const same = predictedLetter === goldLetter;
    return {
      equivalent: same,
      reason: same ? "match" : "mismatch",
      goldAnswer: goldLetter,
      predictedAnswer: predictedLetter,
    };
  }
  const modes = options.extraction ?? defaultModes;
  const goldAnswer = readAnswer(gold, modes);
  if (!goldAnswer.ok) {
    return {
      equivalent: false,
      reason: "invalid-reference",
      detail:
        goldAnswer.reason === "no-answer" ? "no answer found" : `${goldAnswer.reason}: ${goldAnswer.message}`,
    };
  }
  const predictedAnswer = readAnswer(predicted, modes);
  if (!predictedAnswer.ok) {
    return {
      equivalent: false,
      reason:
        predictedAnswer.reason === "no-answer"
          ? "no-answer"
          : predictedAnswer.reason === "too-deep"
            ? "too-deep"
            : "unparseable-answer",
      goldAnswer: goldAnswer.normalized,
      ...(predictedAnswer.reason === "unparseable" ? { predictedAnswer: predictedAnswer.extracted } : {}),
    };
  }
  const same = equivalent(goldAnswer.node, predictedAnswer.node, {
    relativeTolerance: options.relativeTolerance ?? DEFAULT_RELATIVE_TOLERANCE,
  });
  return {
    equivalent: same,
    reason: same ? "match" : "mismatch",
    goldAnswer: goldAnswer.normalized,
    predictedAnswer: predictedAnswer.normalized,
  };
};

/**
 * Whether `predicted` (a response or a bare answer) states the same mathematical answer as `gold`.
 * Never evaluates either string as code.
 *
 * @since 0.1.0
 * @category math
 */
export const isEquivalent = (gold: string, predicted: string, options?: EquivalenceOptions): boolean =>
  explainEquivalence(gold, predicted, options).equivalent;
