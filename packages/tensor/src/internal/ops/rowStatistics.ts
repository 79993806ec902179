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

/** `values[r, targets[r]]` for each row `r` of `values [rows, V]`, without a one-hot matrix. */
const pickTargets = (values: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D =>
  tf.tidy(() => {
    const [rows, vocabulary] = values.shape;
    const rowOffsets = tf.mul(tf.range(0, rows, 1, "int32"), tf.scalar(vocabulary, "int32"));
    const flatIndices = tf.add(rowOffsets, targets);
    return tf.gather(tf.reshape(values, [rows * vocabulary]), flatIndices) as tf.Tensor1D;
  });

/** What {@link rowStatistics} computes besides the log-sum-exp parts. */
export interface RowStatisticsRequest {
  /** Also the entropy of each row. */
  readonly entropy: boolean;
  /** Also `log p(target_r)` for these `[rows]` token ids. */
  readonly targets?: tf.Tensor1D;
}

/**
 * Row-wise log-sum-exp parts of `logits [rows, V]` — and, on request, each row's entropy and the
 * log-probability of its target — shifted by the row maximum so no `exp` overflows. A row whose
 * maximum is not finite (all `-inf`) is shifted by 0 instead, so `-inf` masks never produce
 * `-inf - -inf`. `log p(target) = (x_t - shift) - logTotal` never subtracts two large rounded
 * numbers. Consumes (disposes) `logits`; at most two chunk-sized tensors exist at once (three with
 * entropy).
 */
export const rowStatistics = (
  logits: tf.Tensor2D,
  request: RowStatisticsRequest,
): RowStatistics & { readonly logprob?: tf.Tensor1D } =>
  tf.tidy(() => {
    const max = tf.max(logits, 1, true);
    const shift = tf.where(tf.isFinite(max), max, tf.zerosLike(max));
    const shifted = replace(logits, tf.sub(logits, shift) as tf.Tensor2D);
    const exponentials = tf.exp(shifted);
    const total = rowSum(exponentials as tf.Tensor2D);
    const logTotal = tf.log(total) as tf.Tensor1D;
    const flatShift = tf.reshape(shift, [-1]) as tf.Tensor1D;
    const logprob =
      request.targets === undefined
        ? undefined
        : (tf.sub(pickTargets(shifted, request.targets), logTotal) as tf.Tensor1D);
    const picked = logprob === undefined ? {} : { logprob };
    if (!request.entropy) {
      tf.dispose([shifted, exponentials]);
      return { shift: flatShift, logTotal, ...picked };
    }
    // H = log s - Σ e·z / s with z = x - shift, e = exp(z), s = Σ e.
    const floored = replace(shifted, tf.maximum(shifted, NEGATIVE_FLOOR));
    const products = replace(exponentials, tf.mul(exponentials, floored));
    floored.dispose();
    const weighted = rowSum(products as tf.Tensor2D);
    products.dispose();
    const entropy = tf.sub(logTotal, tf.div(weighted, total)) as tf.Tensor1D;
    return { shift: flatShift, logTotal, entropy, ...picked };
  });

/**
 * `onehot(target - offset)` for a chunk of `width` vocabulary columns starting at `offset`; rows
 * whose target lies outside the chunk are all zero.
 */
const chunkOneHot = (targets: tf.Tensor1D, width: number, offset: number): tf.Tensor2D =>
  tf.tidy(() => {
    const local = offset === 0 ? targets : tf.sub(targets, tf.scalar(offset, "int32"));
    // int32 then cast: the wasm OneHot kernel ignores a float32 dtype and writes int32 bits.
    if (width >= 2) return tf.cast(tf.oneHot(local as tf.Tensor1D, width), "float32") as tf.Tensor2D;
    // tf.oneHot needs a depth ≥ 2: a one-column chunk is a comparison.
    return tf.cast(tf.equal(tf.reshape(local, [-1, 1]), tf.zeros([1, 1], "int32")), "float32") as tf.Tensor2D;
  });

/** `log p = (logits - shift) - logTotal` for a row chunk, consuming `logits`; columns are `[rows, 1]`. */
const chunkLogProbabilities = (
  logits: tf.Tensor2D,
  shift: tf.Tensor2D,
  logTotal: tf.Tensor2D,
): tf.Tensor2D => {
  const centred = replace(logits, tf.sub(logits, shift));
  return replace(centred, tf.sub(centred, logTotal) as tf.Tensor2D);
};

/**
 * `onehot(target) - p` for a chunk of logits `[rows, V]`: the gradient of `log p(target)` with
 * respect to the chunk per unit of upstream gradient. `shift`, `logTotal` are `[rows, 1]`.
 * Consumes (disposes) `logits`; at most two chunk-sized tensors exist next to it.
 */
export const logprobDirection = (
  logits: tf.Tensor2D,
  shift: tf.Tensor2D,
  logTotal: tf.Tensor2D,
  targets: tf.Tensor1D,
): tf.Tensor2D =>
  tf.tidy(() => {
    const logProbabilities = chunkLogProbabilities(logits, shift, logTotal);
    const probabilities = replace(logProbabilities, tf.exp(logProbabilities));
    const oneHot = chunkOneHot(targets, logits.shape[1], 0);
    return replace(oneHot, replace(probabilities, tf.sub(oneHot, probabilities) as tf.Tensor2D));
  });

/** `-dH/dx = p·(log p + H)` per unit upstream gradient, for a row chunk; `[rows, 1]` columns. Consumes `logits`. */
export const entropyDirection = (
  logits: tf.Tensor2D,
  shift: tf.Tensor2D,
  logTotal: tf.Tensor2D,
  entropy: tf.Tensor2D,
): tf.Tensor2D =>
  tf.tidy(() => {
    const logProbabilities = chunkLogProbabilities(logits, shift, logTotal);
    const probabilities = tf.exp(logProbabilities);
    const floored = replace(logProbabilities, tf.maximum(logProbabilities, NEGATIVE_FLOOR));
    const surprise = replace(floored, tf.add(floored, entropy));
    return replace(surprise, replace(probabilities, tf.mul(surprise, probabilities) as tf.Tensor2D));
  });

/** Per-token terms of the backward through the entropy output. */
export interface EntropyGradientTerms {
  /** Forward entropy `[N]`. */
  readonly entropy: tf.Tensor1D;
  /** d loss / d log p(target) `[N]`. */
  readonly dLogprob: tf.Tensor1D;
  /** d loss / d entropy `[N]`. */
  readonly dEntropy: tf.Tensor1D;
}

/**
 * The probability part of the transposed chunk gradient for a vocabulary chunk: `logitsT [width, N]`
 * are the logits of vocabulary ids `[offset, offset + width)` for all `N` tokens (`W_k · hiddenᵀ`).
 * The full chunk gradient is `G = onehot·dLogprob − Q` with `Q = p·dLogprob + p·(log p + H)·dEntropy`;
 * its one-hot part touches one logit per token, so the caller adds it once for all chunks
 * (`dHidden += dLogprob ⊙ W[t]`, `dW[t] += dLogprob ⊙ hidden`) and each chunk only needs `Qᵀ`.
 * Returns `pᵀ` (the caller scales tokens by `dLogprob`), or with `entropyTerms` the whole `Qᵀ`.
 * Working vocabulary-major makes every per-token vector (`shift`, `logTotal`, the upstream
 * gradients `[N]`) a trailing-axis broadcast, which every backend — tfjs-cpu included — runs on its
 * fast path. Consumes `logitsT`.
 */
export const vocabularyChunkProbabilities = (
  logitsT: tf.Tensor2D,
  shift: tf.Tensor1D,
  logTotal: tf.Tensor1D,
  entropyTerms?: EntropyGradientTerms,
): tf.Tensor2D =>
  tf.tidy(() => {
    const centred = replace(logitsT, tf.sub(logitsT, shift));
    const logProbabilities = replace(centred, tf.sub(centred, logTotal));
    const probabilities = tf.exp(logProbabilities);
    if (entropyTerms === undefined) {
      logProbabilities.dispose();
      return probabilities as tf.Tensor2D;
    }
    // p·(log p + H)·dEntropy + p·dLogprob; p·(max(log p, floor) + H) first, so a zero probability
    // makes a 0 (never 0 · ±inf) whatever dEntropy is.
    const floored = replace(logProbabilities, tf.maximum(logProbabilities, NEGATIVE_FLOOR));
    const surprise = replace(floored, tf.add(floored, entropyTerms.entropy));
    const weighted = replace(surprise, tf.mul(surprise, probabilities));
    const entropyPart = replace(weighted, tf.mul(weighted, entropyTerms.dEntropy));
    const logprobPart = replace(probabilities, tf.mul(probabilities, entropyTerms.dLogprob));
    return replace(entropyPart, replace(logprobPart, tf.add(entropyPart, logprobPart) as tf.Tensor2D));
  });
