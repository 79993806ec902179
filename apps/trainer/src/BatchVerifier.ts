import type { Verification, VerifierV1 } from "@apo-rl/core";

/**
 * One response to verify against its reference.
 *
 * @since 0.1.0
 * @category rewards
 */
export interface VerificationItem {
  readonly response: string;
  readonly reference: string;
}

/**
 * What the trainer needs from the reward side: many verifications at once, results in order,
 * and a `close` that releases workers.
 *
 * @since 0.1.0
 * @category rewards
 */
export interface BatchVerifier {
  readonly name: string;
  verifyBatch(items: ReadonlyArray<VerificationItem>): Promise<ReadonlyArray<Verification>>;
  close(): Promise<void>;
}

/**
 * Run a {@link VerifierV1} in this thread, one item after the other (no worker pool, no time limit).
 *
 * @since 0.1.0
 * @category rewards
 */
export const inProcessBatchVerifier = (verifier: VerifierV1): BatchVerifier => ({
  name: verifier.name,
  verifyBatch: (items) => Promise.all(items.map((item) => verifier.verify(item.response, item.reference))),
  close: async () => {},
});
