import * as tf from "@tensorflow/tfjs-core";
import { Effect, Schema } from "effect";
import { stopGradient } from "./masking.js";

/**
 * Correction of the mismatch between the policy that sampled the rollouts (an inference engine, or
 * the weights of an earlier step) and the policy being trained, by importance sampling on the ratio
 * `ρ = π_train / π_rollout`:
 *
 * - `mode`: `tis` (truncated importance sampling: weight `min(ρ, cap)`), `mis` (masked importance
 *   sampling: weight `ρ` where `ρ ≤ cap`, 0 where it exceeds it), `off` (weight 1);
 * - `level`: `token` (`ρ_t` per token) or `sequence` (`ρ = Π_t ρ_t` over the response, one weight
 *   for all its tokens);
 * - `cap`: the truncation / masking threshold (default 2).
 *
 * @since 0.1.0
 * @category rollout correction
 */
export const RolloutCorrectionOptions = Schema.Struct({
  mode: Schema.Literals(["tis", "mis", "off"]).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed<"tis" | "mis" | "off">("tis")),
  ),
  level: Schema.Literals(["token", "sequence"]).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed<"token" | "sequence">("token")),
  ),
  cap: Schema.Finite.check(Schema.isGreaterThan(1)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(2))),
});

/**
 * @since 0.1.0
 * @category rollout correction
 */
export type RolloutCorrectionOptions = typeof RolloutCorrectionOptions.Type;

/**
 * The metrics a corrected objective adds: `rolloutRatioMean` and `rolloutRatioMax` (of `ρ` over
 * response tokens, or over sequences at `sequence` level) and `rolloutMaskedFraction` (the fraction
 * of them above `cap`: truncated by `tis`, masked by `mis`).
 *
 * @since 0.1.0
 * @category rollout correction
 */
export const rolloutCorrectionMetricNames = [
  "rolloutRatioMean",
  "rolloutRatioMax",
  "rolloutMaskedFraction",
] as const;

/**
 * The importance weights of {@link rolloutCorrectionWeights} and their statistics (tensors the
 * caller disposes).
 *
 * @since 0.1.0
 * @category rollout correction
 */
export interface RolloutCorrection {
  /** `[S, T]` per-token weights (no gradient), 0 on padding. */
  readonly weights: tf.Tensor2D;
  readonly ratioMean: tf.Scalar;
  readonly ratioMax: tf.Scalar;
  readonly maskedFraction: tf.Scalar;
}

/** `exp` of log-ratios above this is reported as `exp(LOG_RATIO_REPORT_LIMIT)` (finite in float32). */
const LOG_RATIO_REPORT_LIMIT = 80;

/**
 * Importance weights correcting rollouts sampled by another policy: `logp` `[S, T]` are the trained
 * policy's log-probs of the sampled tokens (used without gradient), `logpRollout` `[S, T]` those the
 * rollout engine reported, `mask` `[S, T]` 1 on response tokens. See {@link RolloutCorrectionOptions}
 * for the modes. Computed in log space: `min(ρ, cap) = exp(min(log ρ, log cap))`, so a sequence
 * ratio never overflows.
 *
 * @since 0.1.0
 * @category rollout correction
 */
export const rolloutCorrectionWeights = (
  logp: tf.Tensor,
  logpRollout: tf.Tensor,
  mask: tf.Tensor,
  options: RolloutCorrectionOptions,
): RolloutCorrection =>
  tf.tidy(() => {
    const response = tf.cast(tf.greater(tf.cast(mask, "float32"), 0), "float32") as tf.Tensor2D;
    const tokenLogRatio = tf.mul(tf.sub(stopGradient(logp), logpRollout), response);
    const sequence = options.level === "sequence";
    // One log-ratio per token, or per sequence (`[S, 1]`, broadcast over its tokens).
    const logRatio = sequence ? tf.sum(tokenLogRatio, 1, true) : tokenLogRatio;
    const units = sequence ? tf.cast(tf.greater(tf.sum(response, 1, true), 0), "float32") : response;
    const count = tf.maximum(tf.sum(units), 1);
    const logCap = Math.log(options.cap);
    const above = tf.mul(tf.cast(tf.greater(logRatio, logCap), "float32"), units);
    const truncated = tf.exp(tf.minimum(logRatio, logCap));
    const unitWeights =
      options.mode === "off"
        ? tf.onesLike(logRatio)
        : options.mode === "tis"
          ? truncated
          : tf.mul(truncated, tf.sub(1, above));
    const weights = stopGradient(tf.mul(tf.mul(unitWeights, tf.onesLike(response)), response)) as tf.Tensor2D;
    const reported = tf.mul(tf.exp(tf.minimum(logRatio, LOG_RATIO_REPORT_LIMIT)), units);
    return {
      weights,
      ratioMean: tf.div(tf.sum(reported), count) as tf.Scalar,
      ratioMax: tf.max(tf.add(reported, tf.mul(tf.sub(units, 1), 1e30))) as tf.Scalar,
      maskedFraction: tf.div(tf.sum(above), count) as tf.Scalar,
    };
  });
