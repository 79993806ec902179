import type { Verification } from "@apo-rl/core";
import { type FormatOptions, format } from "./format.js";
import { type MathAnswerOptions, mathAnswer } from "./mathAnswer.js";
import type { BuiltinVerifier } from "./VerifierSpec.js";

/**
 * One weighted part of a {@link composite} reward.
 *
 * @since 0.1.0
 * @category verifiers
 */
export interface CompositePart {
  readonly verifier: BuiltinVerifier;
  readonly weight: number;
}

/**
 * Options of {@link composite}.
 *
 * @since 0.1.0
 * @category verifiers
 */
export interface CompositeOptions {
  /** Parts by name, e.g. `{ accuracy: { verifier: mathAnswer(), weight: 1 }, format: { verifier: format(), weight: 0.5 } }`. */
  readonly parts: Readonly<Record<string, CompositePart>>;
  /** The part whose `correct` is the composite's `correct`. Default `"accuracy"`. */
  readonly correctFrom?: string;
}

/**
 * Weighted sum of verifiers: `reward = Σ weight_k · reward_k`, with `details.breakdown` holding each
 * part's weighted reward and details. `correct` comes from the `correctFrom` part alone, so a format
 * bonus never makes a wrong answer correct.
 *
 * @since 0.1.0
 * @category verifiers
 */
export const composite = (options: CompositeOptions): BuiltinVerifier => {
  const entries = Object.entries(options.parts);
  const correctFrom = options.correctFrom ?? "accuracy";
  if (entries.length === 0) throw new RangeError("composite: at least one part is required");
  if (!entries.some(([name]) => name === correctFrom)) {
    throw new RangeError(
      `composite: correctFrom ${JSON.stringify(correctFrom)} is not one of the parts (${entries.map(([name]) => name).join(", ")})`,
    );
  }
  for (const [name, part] of entries) {
    if (!Number.isFinite(part.weight))
      throw new RangeError(`composite: weight of ${name} must be a finite number`);
  }
  return {
    specificationVersion: "v1",
    name: `composite(${entries.map(([name]) => name).join("+")})`,
    spec: {
      kind: "composite",
      options: {
        parts: entries.map(([name, part]) => ({ name, weight: part.weight, spec: part.verifier.spec })),
        correctFrom,
      },
    },
    verify: (response, reference) => {
      let reward = 0;
      let correct = false;
      const breakdown: Record<string, { reward: number; weight: number; details: Verification["details"] }> =
        {};
      for (const [name, part] of entries) {
        const result = part.verifier.verify(response, reference);
        const weighted = part.weight * result.reward;
        reward += weighted;
        if (name === correctFrom) correct = result.correct;
        breakdown[name] = { reward: weighted, weight: part.weight, details: result.details };
      }
      return { reward, correct, details: { breakdown } };
    },
  };
};

/**
 * Options of {@link viewR1Reward}.
 *
 * @since 0.1.0
 * @category verifiers
 */
export interface ViewR1RewardOptions {
  readonly accuracy?: MathAnswerOptions;
  readonly format?: FormatOptions;
  readonly accuracyWeight?: number;
  readonly formatWeight?: number;
}

/**
 * The View-R1 reward: `1.0 · accuracy + 0.5 · format` (math answer and think/answer format).
 *
 * @since 0.1.0
 * @category verifiers
 */
export const viewR1Reward = (options: ViewR1RewardOptions = {}): BuiltinVerifier =>
  composite({
    parts: {
      accuracy: { verifier: mathAnswer(options.accuracy), weight: options.accuracyWeight ?? 1.0 },
      format: { verifier: format(options.format), weight: options.formatWeight ?? 0.5 },
    },
    correctFrom: "accuracy",
  });
