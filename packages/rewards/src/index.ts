/**
 * Verifiers for RL post-training: math answers, multiple choice, format, grounding IoU, counting and
 * composite rewards, with a worker pool that enforces a hard time limit per verification.
 *
 * @since 0.1.0
 */
export { ChoiceOptions, choice } from "./choice.js";
export type { CompositeOptions, CompositePart, ViewR1RewardOptions } from "./composite.js";
export { composite, viewR1Reward } from "./composite.js";
export { CountingOptions, counting } from "./counting.js";
export { InvalidReferenceError, VerifierPoolError } from "./errors.js";
export { FormatOptions, format, formatViolation } from "./format.js";
export { fromSpec } from "./fromSpec.js";
export type { Box } from "./groundingIou.js";
export { GroundingIouOptions, groundingIou, intersectionOverUnion, parseBox } from "./groundingIou.js";
export type { EquivalenceOptions, EquivalenceResult } from "./isEquivalent.js";
export { explainEquivalence, isEquivalent } from "./isEquivalent.js";
export { DEFAULT_MAX_INPUT_LENGTH, DEFAULT_RELATIVE_TOLERANCE } from "./limits.js";
export { MathAnswerOptions, mathAnswer } from "./mathAnswer.js";
export type { ParsedReference, ReferenceOptions } from "./reference.js";
export { findInvalidReferences, parseReference, referenceProblem, validateReference } from "./reference.js";
export { referenceCheck } from "./referenceCheck.js";
export type {
  VerificationItem,
  VerifierPoolHandle,
  VerifierPoolOptions,
  VerifierPoolShape,
} from "./VerifierPool.js";
export { createVerifierPool, resolveWorkerFile, VerifierPool, verifyBatch } from "./VerifierPool.js";
export type { BuiltinVerifier, VerifierSpec } from "./VerifierSpec.js";

/**
 * @since 0.1.0
 */
export const packageName = "@apo-rl/rewards";
