import * as tf from "@tensorflow/tfjs-core";

/**
 * Stands in for `-inf` where a product with a zero probability must stay `0` rather than `NaN`
 * (`0 · -inf`). Far below any real logit, far above float32's lowest value.
 */
export const NEGATIVE_FLOOR = -1e30;

/**
 * Per-row statistics of a chunk of logits `[rows, V]`, kept in two parts so that
 * `log p_v = (x_v - shift) - logTotal` never subtracts two large, rounded numbers.
 */
export interface RowStatistics {
  /** The row maximum (0 for a row that is all `-inf`), `[rows]`. */
  readonly shift: tf.Tensor1D;
  /** `log Σ_v exp(x_v - shift)`, `[rows]`. */
  readonly logTotal: tf.Tensor1D;
  /** `-Σ_v p_v log p_v` per row, `[rows]`, when asked for. */
  readonly entropy?: tf.Tensor1D;
}

/**
 * Row-wise log-sum-exp parts (and optionally entropy) of `logits [rows, V]`, shifted by the row
 * maximum so no `exp` overflows. A row whose maximum is not finite (all `-inf`) is shifted by 0
 * instead, so `-inf` masks never produce `-inf - -inf`.
 */
export const rowStatistics = (logits: tf.Tensor2D, withEntropy: boolean): RowStatistics =>
  tf.tidy(() => {
    const max = tf.max(logits, 1, true);
    const shift = tf.where(tf.isFinite(max), max, tf.zerosLike(max));
    const shifted = tf.sub(logits, shift);
    const exponentials = tf.exp(shifted);
    const total = tf.sum(exponentials, 1);
    const logTotal = tf.log(total) as tf.Tensor1D;
    const flatShift = tf.reshape(shift, [-1]) as tf.Tensor1D;
    if (!withEntropy) return { shift: flatShift, logTotal };
    // H = log s - Σ e·z / s with z = x - shift, e = exp(z), s = Σ e.
    const weighted = tf.sum(tf.mul(exponentials, tf.maximum(shifted, NEGATIVE_FLOOR)), 1);
    const entropy = tf.sub(logTotal, tf.div(weighted, total)) as tf.Tensor1D;
    return { shift: flatShift, logTotal, entropy };
  });

/** `logits[r, targets[r]]` for each row `r` of `logits [rows, V]`, without a one-hot matrix. */
export const pickTargets = (logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D =>
  tf.tidy(() => {
    const [rows, vocabulary] = logits.shape;
    const rowOffsets = tf.mul(tf.range(0, rows, 1, "int32"), tf.scalar(vocabulary, "int32"));
    const flatIndices = tf.add(rowOffsets, targets);
    return tf.gather(tf.reshape(logits, [rows * vocabulary]), flatIndices) as tf.Tensor1D;
  });

/** `log p(target_r) = (x[r, target_r] - shift_r) - logTotal_r`. */
export const targetLogprobs = (
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  statistics: RowStatistics,
): tf.Tensor1D =>
  tf.tidy(
    () => tf.sub(tf.sub(pickTargets(logits, targets), statistics.shift), statistics.logTotal) as tf.Tensor1D,
  );

/** Upstream gradients of the two per-row outputs and the forward statistics they need. */
export interface RowGradientInputs {
  readonly shift: tf.Tensor1D;
  readonly logTotal: tf.Tensor1D;
  /** d loss / d log p(target), `[rows]`. */
  readonly dLogprob: tf.Tensor1D;
  /** Entropy `[rows]` and d loss / d entropy `[rows]`, when the entropy is an output. */
  readonly entropyTerms?: { readonly entropy: tf.Tensor1D; readonly dEntropy: tf.Tensor1D };
}

/**
 * The gradient of `Σ_r dLogprob[r]·log p(target_r) + dEntropy[r]·H_r` with respect to a chunk of
 * logits `[rows, width]`: `dLogprob·(onehot - p) - dEntropy·p·(log p + H)`.
 * `vocabularyOffset` is the vocabulary index of the chunk's first column (for vocabulary chunks):
 * targets outside the chunk contribute no one-hot entry.
 */
export const logitsGradient = (
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  inputs: RowGradientInputs,
  vocabularyOffset = 0,
): tf.Tensor2D =>
  tf.tidy(() => {
    const width = logits.shape[1];
    const column = (vector: tf.Tensor1D) => tf.expandDims(vector, 1);
    const logProbabilities = tf.sub(tf.sub(logits, column(inputs.shift)), column(inputs.logTotal));
    const probabilities = tf.exp(logProbabilities);
    const localTargets =
      vocabularyOffset === 0 ? targets : tf.sub(targets, tf.scalar(vocabularyOffset, "int32"));
    const oneHot = tf.oneHot(localTargets as tf.Tensor1D, width, 1, 0, "float32");
    const logprobPart = tf.mul(tf.sub(oneHot, probabilities), column(inputs.dLogprob));
    if (inputs.entropyTerms === undefined) return logprobPart as tf.Tensor2D;
    const { entropy, dEntropy } = inputs.entropyTerms;
    const surprise = tf.add(tf.maximum(logProbabilities, NEGATIVE_FLOOR), column(entropy));
    const entropyPart = tf.mul(tf.mul(probabilities, surprise), column(dEntropy));
    return tf.sub(logprobPart, entropyPart) as tf.Tensor2D;
  });
