/**
 * The verdict of a verifier on one response.
 *
 * @since 0.1.0
 * @category verifiers
 */
export interface Verification {
  /** The reward this verifier gives (already weighted when it is part of a composite). */
  readonly reward: number;
  /** Whether the response is correct (accuracy verdict, never a format bonus). */
  readonly correct: boolean;
  /** Why: extracted answer, component rewards, `timeout`, `too-long`, … */
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * Version 1 of the verifier contract: `response + reference → reward, correct, details`.
 * Implementations must treat `response` as untrusted (never evaluate it).
 *
 * @since 0.1.0
 * @category verifiers
 */
export interface VerifierV1 {
  readonly specificationVersion: "v1";
  readonly name: string;
  verify(response: string, reference: string): Verification | Promise<Verification>;
}
