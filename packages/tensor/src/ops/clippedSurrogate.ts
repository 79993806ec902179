import * as tf from "@tensorflow/tfjs-core";
import { invalidInput, requireFloat } from "../internal/ops/invalidInput.js";

/**
 * Options of {@link clippedSurrogate}.
 *
 * @since 0.1.0
 * @category ops
 */
export interface ClippedSurrogateOptions {
  /** Lower clip range: the ratio is clipped below at `1 - epsLow` (reference 0.2). */
  readonly epsLow: number;
  /** Upper clip range: the ratio is clipped above at `1 + epsHigh` (reference 0.2; DAPO 0.28). */
  readonly epsHigh: number;
  /** Dual-clip constant `c > 1` (e.g. 3): for `A < 0`, the loss is capped at `-c·A`. */
  readonly dualClip?: number;
  /** `[S, T]` response mask (1/0) for the clip fractions; default: every token counts. */
  readonly mask?: tf.Tensor;
}

/**
 * Result of {@link clippedSurrogate}.
 *
 * @since 0.1.0
 * @category ops
 */
export interface ClippedSurrogateResult {
  /** Per-token loss `pg`, the shape of `logp`. Differentiable in `logp`. */
  readonly loss: tf.Tensor;
  /** Per-token 1 where the clipped term was the active one (`clip(ratio)·A` strictly beat `ratio·A`), else 0. */
  readonly clipped: tf.Tensor;
  /** Fraction of (masked) tokens with `clipped = 1`, a scalar. */
  readonly clipFraction: tf.Scalar;
  /** Fraction of (masked) tokens where the dual-clip cap `-c·A` was active; 0 without `dualClip`. */
  readonly dualClipFraction: tf.Scalar;
}

const OP = "clippedSurrogate";

/** The log-ratio is clamped to this range before `exp` (as verl does) so no ratio overflows. */
const LOG_RATIO_BOUND = 20;

const broadcastAdvantages = (logp: tf.Tensor, advantages: tf.Tensor): tf.Tensor => {
  if (tf.util.arraysEqual(advantages.shape, logp.shape)) return advantages;
  if (logp.rank === 2 && advantages.rank === 1 && advantages.shape[0] === logp.shape[0]) {
    return tf.expandDims(advantages, 1);
  }
  throw invalidInput(
    OP,
    "advantages",
    `expected shape [${logp.shape}] or [${logp.shape[0]}] (one per sequence), got [${advantages.shape}]`,
  );
};

const validateOptions = (options: ClippedSurrogateOptions): void => {
  for (const field of ["epsLow", "epsHigh"] as const) {
    const value = options[field];
    if (!(Number.isFinite(value) && value >= 0))
      throw invalidInput(OP, field, `expected a number ≥ 0, got ${value}`);
  }
  if (options.epsLow >= 1)
    throw invalidInput(OP, "epsLow", `must be < 1 (the ratio's lower bound 1 - epsLow > 0)`);
  if (options.dualClip !== undefined && !(Number.isFinite(options.dualClip) && options.dualClip > 1)) {
    throw invalidInput(OP, "dualClip", `expected a constant > 1, got ${options.dualClip}`);
  }
};

const maskedMean = (indicator: tf.Tensor, mask: tf.Tensor | undefined): tf.Scalar =>
  tf.tidy(() => {
    if (mask === undefined) return tf.mean(indicator);
    const weights = tf.cast(mask, "float32");
    const count = tf.sum(weights);
    return tf.div(tf.sum(tf.mul(indicator, weights)), tf.maximum(count, 1e-30)) as tf.Scalar;
  });

/**
 * PPO-clip surrogate loss per token:
 * `ratio = exp(logp - logpOld)`, `pg = -min(ratio·A, clip(ratio, 1 - epsLow, 1 + epsHigh)·A)`;
 * with `dualClip = c`, for `A < 0`: `pg = min(pg, -c·A)`.
 *
 * Shapes: `logp` and `logpOld` share any shape (typically `[S, T]`); `advantages` has that shape or,
 * when `logp` is `[S, T]`, is `[S]` (one advantage per sequence, broadcast to its tokens). The
 * log-ratio is clamped to `[-20, 20]` before `exp` so padded or wild tokens never overflow; give
 * padding positions finite log-probs (e.g. 0) and drop them with the mask when aggregating.
 * Differentiable in `logp` (`logpOld` and `advantages` are constants of the objective).
 *
 * @example
 * ```ts
 * const { loss, clipFraction } = clippedSurrogate(logp, logpOld, advantages, { epsLow: 0.2, epsHigh: 0.28 });
 * const objective = maskedAggregate(loss, mask, "token-mean");
 * ```
 * @since 0.1.0
 * @category ops
 */
export const clippedSurrogate = (
  logp: tf.Tensor,
  logpOld: tf.Tensor,
  advantages: tf.Tensor,
  options: ClippedSurrogateOptions,
): ClippedSurrogateResult => {
  requireFloat(OP, "logp", logp);
  requireFloat(OP, "logpOld", logpOld);
  requireFloat(OP, "advantages", advantages);
  if (!tf.util.arraysEqual(logp.shape, logpOld.shape)) {
    throw invalidInput(OP, "logpOld", `shape [${logpOld.shape}] differs from logp's [${logp.shape}]`);
  }
  validateOptions(options);
  if (options.mask !== undefined && !tf.util.arraysEqual(options.mask.shape, logp.shape)) {
    throw invalidInput(OP, "mask", `shape [${options.mask.shape}] differs from logp's [${logp.shape}]`);
  }
  const { epsLow, epsHigh, dualClip, mask } = options;
  return tf.tidy(() => {
    const advantage = broadcastAdvantages(logp, advantages);
    const logRatio = tf.clipByValue(tf.sub(logp, logpOld), -LOG_RATIO_BOUND, LOG_RATIO_BOUND);
    const ratio = tf.exp(logRatio);
    const unclippedLoss = tf.neg(tf.mul(ratio, advantage));
    const clippedLoss = tf.neg(tf.mul(tf.clipByValue(ratio, 1 - epsLow, 1 + epsHigh), advantage));
    const surrogate = tf.maximum(unclippedLoss, clippedLoss);
    const clipped = tf.cast(tf.greater(clippedLoss, unclippedLoss), "float32");
    if (dualClip === undefined) {
      return {
        loss: surrogate,
        clipped,
        clipFraction: maskedMean(clipped, mask),
        dualClipFraction: tf.scalar(0),
      };
    }
    const cap = tf.mul(advantage, -dualClip);
    const negative = tf.less(tf.broadcastTo(advantage, logp.shape), 0);
    const loss = tf.where(negative, tf.minimum(surrogate, cap), surrogate);
    const dualClipped = tf.cast(tf.logicalAnd(negative, tf.greater(surrogate, cap)), "float32");
    return {
      loss,
      clipped,
      clipFraction: maskedMean(clipped, mask),
      dualClipFraction: maskedMean(dualClipped, mask),
    };
  });
};
