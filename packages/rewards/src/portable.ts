/**
 * The portable part of @apo-rl/rewards: every verifier, run in the calling thread (a browser page,
 * a Web Worker, Node). It imports no Node built-in (`scripts/check-architecture.mjs` enforces it);
 * the worker pool with time limits (`createVerifierPool`, tinypool) stays in the main entry point,
 * which is Node-only. Without Node, the last-resort symbolic fallback of `isEquivalent` (mathjs) is
 * unavailable and answers "not equal"; random-point evaluation decides everything else as in Node.
 *
 * @since 0.2.0
 */
export { ChoiceOptions, choice } from "./choice.js";
export type { CompositeOptions, CompositePart, ViewR1RewardOptions } from "./composite.js";
export { composite, viewR1Reward } from "./composite.js";
export { CountingOptions, counting } from "./counting.js";
export { InvalidReferenceError } from "./errors.js";
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
export type { BuiltinVerifier, VerifierSpec } from "./VerifierSpec.js";

export const packageName = "@apo-rl/rewards";
