import { type BuiltinVerifier, composite, counting, format } from "@apo-rl/rewards/portable";

/**
 * The demo's reward, the View-R1 composite of @apo-rl/rewards with the counting verifier for
 * accuracy: `1.0 · counting + 0.5 · format` (`<think>…</think><answer>…</answer>`), `correct` from
 * the counting part alone. The same reward as the trainer's `reward: { preset: view-r1, accuracy:
 * counting }`.
 *
 * @since 0.1.0
 * @category demo
 */
export const demoVerifier = (): BuiltinVerifier =>
  composite({
    parts: {
      accuracy: { verifier: counting(), weight: 1 },
      format: { verifier: format(), weight: 0.5 },
    },
    correctFrom: "accuracy",
  });
