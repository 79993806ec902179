import type { Verification, VerifierV1 } from "@apo-rl/core";

/**
 * A plain-data description of a built-in verifier, so a worker thread can rebuild it: verifiers are
 * closures and cannot cross a thread boundary, their specs can.
 *
 * @since 0.1.0
 * @category pool
 */
export type VerifierSpec =
  | { readonly kind: "math-answer"; readonly options: Readonly<Record<string, unknown>> }
  | { readonly kind: "choice"; readonly options: Readonly<Record<string, unknown>> }
  | { readonly kind: "format"; readonly options: Readonly<Record<string, unknown>> }
  | { readonly kind: "grounding-iou"; readonly options: Readonly<Record<string, unknown>> }
  | { readonly kind: "counting"; readonly options: Readonly<Record<string, unknown>> }
  | {
      readonly kind: "composite";
      readonly options: {
        readonly parts: ReadonlyArray<{
          readonly name: string;
          readonly weight: number;
          readonly spec: VerifierSpec;
        }>;
        readonly correctFrom: string;
      };
    };

/**
 * A built-in verifier: a {@link VerifierV1} whose synchronous `verify` can also run in the pool.
 *
 * @since 0.1.0
 * @category pool
 */
export interface BuiltinVerifier extends VerifierV1 {
  readonly spec: VerifierSpec;
  verify(response: string, reference: string): Verification;
}
