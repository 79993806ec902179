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
export type RowStatistics = {
  /** The row maximum (0 for a row that is all `-inf`), `[rows]`. */
  readonly shift: tf.Tensor1D;
  /** `log Σ_v exp(x_v - shift)`, `[rows]`. */
  readonly logTotal: tf.Tensor1D;
  /** `-Σ_v p_v log p_v` per row, `[rows]`, when asked for. */
  readonly entropy?: tf.Tensor1D;
};

/** A block width in `[64, 2048]` dividing `width`, the one nearest `√width`; undefined if none. */
const blockWidth = (width: number): number | undefined => {
  if (width < 4096) return undefined;
  const target = Math.sqrt(width);
  let best: number | undefined;
  for (let block = 64; block <= 2048; block++) {
    if (width % block === 0 && (best === undefined || Math.abs(block - target) < Math.abs(best - target)))
      best = block;
  }
  return best;
};

/**
 * Row sums of `values [rows, width]` in two levels (blocks, then the block sums) when `width`
 * factors, so a float32 accumulator (wasm, GPU) adds ~√V terms per level instead of V: at
 * V = 151,936 this cuts the rounding of the log-sum-exp by about two orders of magnitude.
 */
const rowSum = (values: tf.Tensor2D): tf.Tensor1D =>
  tf.tidy(() => {
    const [rows, width] = values.shape;
    const block = blockWidth(width);
    if (block === undefined) return tf.sum(values, 1) as tf.Tensor1D;
    return tf.sum(tf.sum(tf.reshape(values, [rows, width / block, block]), 2), 1) as tf.Tensor1D;
  });

/** Dispose `tensor` and return `next`: keeps at most two chunk-sized tensors alive in a chain of ops. */
const replace = <T extends tf.Tensor>(tensor: tf.Tensor, next: T): T => {
  tensor.dispose();
  return next;
};

/**
 * Row-wise log-sum-exp parts (and optionally entropy) of `logits [rows, V]`, shifted by the row
 * maximum so no `exp` overflows. A row whose maximum is not finite (all `-inf`) is shifted by 0
 * instead, so `-inf` masks never produce `-inf - -inf`. Chunk-sized intermediates are disposed as
 * soon as they are used: at most two exist next to `logits`.
 */
export const rowStatistics = (logits: tf.Tensor2D, withEntropy: boolean): RowStatistics =>
  tf.tidy(() => {
    const max = tf.max(logits, 1, true);
    const shift = tf.where(tf.isFinite(max), max, tf.zerosLike(max));
    const shifted = tf.sub(logits, shift);
    const exponentials = tf.exp(shifted);
    const total = rowSum(exponentials as tf.Tensor2D);
    const logTotal = tf.log(total) as tf.Tensor1D;
    const flatShift = tf.reshape(shift, [-1]) as tf.Tensor1D;
    if (!withEntropy) {
      tf.dispose([shifted, exponentials]);
      return { shift: flatShift, logTotal };
    }
    // H = log s - Σ e·z / s with z = x - shift, e = exp(z), s = Σ e.
    const floored = replace(shifted, tf.maximum(shifted, NEGATIVE_FLOOR));
    const products = replace(exponentials, tf.mul(exponentials, floored));
    floored.dispose();
    const weighted = rowSum(products as tf.Tensor2D);
    products.dispose();
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

/** Forward statistics of a chunk and the upstream gradients of the per-row outputs. */
export interface RowGradientInputs {
  readonly shift: tf.Tensor1D;
  readonly logTotal: tf.Tensor1D;
  /** Target ids `[rows]` and d loss / d log p(target) `[rows]`, when the log-prob is an output. */
  readonly logprobTerms?: { readonly targets: tf.Tensor1D; readonly dLogprob: tf.Tensor1D };
  /** Entropy `[rows]` and d loss / d entropy `[rows]`, when the entropy is an output. */
  readonly entropyTerms?: { readonly entropy: tf.Tensor1D; readonly dEntropy: tf.Tensor1D };
}

/**
 * The gradient of `Σ_r dLogprob[r]·log p(target_r) + dEntropy[r]·H_r` with respect to a chunk of
 * logits `[rows, width]`: `dLogprob·(onehot - p) - dEntropy·p·(log p + H)`.
 * `vocabularyOffset` is the vocabulary index of the chunk's first column (for vocabulary chunks):
 * targets outside the chunk contribute no one-hot entry. Consumes (disposes) `logits`, and keeps
 * at most three chunk-sized tensors alive.
 */
export const logitsGradient = (
  logits: tf.Tensor2D,
  inputs: RowGradientInputs,
  vocabularyOffset = 0,
): tf.Tensor2D =>
  tf.tidy(() => {
    const [rows, width] = logits.shape;
    const column = (vector: tf.Tensor1D) => tf.reshape(vector, [rows, 1]);
    const centred = replace(logits, tf.sub(logits, column(inputs.shift)));
    const logProbabilities = replace(centred, tf.sub(centred, column(inputs.logTotal)));
    const probabilities = tf.exp(logProbabilities);
    if (inputs.entropyTerms === undefined) logProbabilities.dispose();
    let gradient: tf.Tensor | undefined;
    if (inputs.logprobTerms !== undefined) {
      const { targets, dLogprob } = inputs.logprobTerms;
      // onehot(target - offset) as a comparison with the chunk's column ids (no depth ≥ 2 limit).
      const columns = tf.range(vocabularyOffset, vocabularyOffset + width, 1, "int32");
      const oneHot = tf.cast(tf.equal(column(targets as tf.Tensor1D), columns), "float32");
      const difference = replace(oneHot, tf.sub(oneHot, probabilities));
      gradient = replace(difference, tf.mul(difference, column(dLogprob)));
      if (inputs.entropyTerms === undefined) probabilities.dispose();
    }
    if (inputs.entropyTerms !== undefined) {
      const { entropy, dEntropy } = inputs.entropyTerms;
      const floored = replace(logProbabilities, tf.maximum(logProbabilities, NEGATIVE_FLOOR));
      const surprise = replace(floored, tf.add(floored, column(entropy)));
      const weighted = replace(surprise, replace(probabilities, tf.mul(surprise, probabilities)));
      const entropyPart = replace(weighted, tf.mul(weighted, column(tf.neg(dEntropy))));
      gradient =
        gradient === undefined
          ? entropyPart
          : replace(gradient, replace(entropyPart, tf.add(gradient, entropyPart)));
    }
    return gradient as tf.Tensor2D;
  });
