import * as tf from "@tensorflow/tfjs-core";
import { assembleRows } from "../internal/ops/assembleRows.js";
import { type Chunk, chunkRanges, defaultChunkRows, sliceRows } from "../internal/ops/chunks.js";
import {
  invalidInput,
  requireFloat,
  requirePositiveInteger,
  requireRank,
  requireTargets,
} from "../internal/ops/invalidInput.js";
import { foldChunk, type OnlineRowState, stateTensors } from "../internal/ops/onlineRowStatistics.js";
import { vocabularyChunkProbabilities } from "../internal/ops/rowStatistics.js";

/**
 * Options of {@link linearTokenLogprobs}.
 *
 * @since 0.1.0
 * @category ops
 */
export interface LinearTokenLogprobsOptions {
  /**
   * The memory bound, in tokens' worth of logits: at most `chunkSize × V` logits exist at once.
   * Forward and backward work in vocabulary chunks of `⌊chunkSize · V / max(N, H)⌋` rows of
   * `weight`, so a chunk's logits (`[N, rows]`) and weight rows (`[rows, H]`) keep that bound.
   * Default: 2^22 logits (27 tokens at V = 151,936).
   */
  readonly chunkSize?: number;
  /** Also return the entropy of each token's distribution (differentiable too). Default `false`. */
  readonly entropy?: boolean;
  /**
   * Differentiate with respect to `weight` too. Default `true`. Set `false` when the lm_head is
   * frozen (LoRA, a frozen tied embedding): the backward then never builds the `[V, H]` weight
   * gradient, and `weight` is not an input of the gradient tape (no saved copy of it either).
   */
  readonly weightGradient?: boolean;
}

/**
 * Result of {@link linearTokenLogprobs} with `entropy: true`.
 *
 * @since 0.1.0
 * @category ops
 */
export interface LinearTokenLogprobsWithEntropy {
  /** `[N]` log-probabilities of the targets. */
  readonly logprobs: tf.Tensor1D;
  /** `[N]` entropies (nats) of each token's distribution. */
  readonly entropy: tf.Tensor1D;
}

const OP = "linearTokenLogprobs";

interface Layout {
  readonly tokens: number;
  readonly hiddenSize: number;
  readonly vocabulary: number;
  readonly vocabularyChunks: ReadonlyArray<Chunk>;
  readonly withEntropy: boolean;
}

const layoutOf = (
  hidden: tf.Tensor2D,
  weight: tf.Tensor2D,
  targets: tf.Tensor1D,
  options: LinearTokenLogprobsOptions,
): Layout => {
  requireRank(OP, "hidden", hidden, 2);
  requireRank(OP, "weight", weight, 2);
  requireFloat(OP, "hidden", hidden);
  requireFloat(OP, "weight", weight);
  const [tokens, hiddenSize] = hidden.shape;
  const [vocabulary, weightHidden] = weight.shape;
  if (weightHidden !== hiddenSize) {
    throw invalidInput(
      OP,
      "weight",
      `expected [V, ${hiddenSize}] (HF lm_head.weight layout), got [${weight.shape}] for hidden [${hidden.shape}]`,
    );
  }
  if (tokens === 0 || vocabulary === 0)
    throw invalidInput(OP, "hidden", "expected at least one token and one class");
  requireTargets(OP, targets, tokens, vocabulary);
  requirePositiveInteger(OP, "chunkSize", options.chunkSize);
  const tokenChunk = Math.min(tokens, options.chunkSize ?? defaultChunkRows(vocabulary));
  // Chunks hold [N, rows] logits and [rows, H] weight rows: keep both within chunk × V.
  const vocabularyChunk = Math.max(1, Math.floor((tokenChunk * vocabulary) / Math.max(tokens, hiddenSize)));
  return {
    tokens,
    hiddenSize,
    vocabulary,
    vocabularyChunks: chunkRanges(vocabulary, vocabularyChunk),
    withEntropy: options.entropy === true,
  };
};

/**
 * Forward, one vocabulary chunk `W_k` at a time: `logits_k = hidden · W_kᵀ` `[N, size]` for all
 * tokens, folded into a streaming log-sum-exp (running maximum, rescaled sums; see `foldChunk`).
 * Each token's statistics are those of its whole row of logits; returns `[N]` vectors.
 */
const forward = (hidden: tf.Tensor2D, weight: tf.Tensor2D, targets: tf.Tensor1D, layout: Layout) => {
  let state: OnlineRowState | undefined;
  const hiddenT = tf.transpose(hidden) as tf.Tensor2D;
  for (const { start, size } of layout.vocabularyChunks) {
    const next = tf.tidy(() => {
      const rows = size === layout.vocabulary ? weight : sliceRows(weight, start, size);
      // W_k · hiddenᵀ then one transpose of the [size, N] product: both plain (untransposed)
      // products, which tfjs-cpu and tfjs-wasm run ~1.3–2× faster than hidden · W_kᵀ.
      const logitsT = tf.matMul(rows, hiddenT) as tf.Tensor2D;
      if (rows !== weight) rows.dispose();
      const logits = tf.transpose(logitsT) as tf.Tensor2D;
      logitsT.dispose();
      // A plain object of tensors (one may be undefined): tidy keeps every tensor in it.
      return foldChunk(state, logits, targets, start, layout.withEntropy) as unknown as tf.TensorContainer;
    }) as unknown as OnlineRowState;
    if (state !== undefined) tf.dispose(stateTensors(state));
    state = next;
  }
  hiddenT.dispose();
  const final = state!;
  const result = tf.tidy(() => {
    const shift = tf.reshape(final.safeShift, [-1]) as tf.Tensor1D;
    const logTotal = tf.reshape(tf.log(final.total), [-1]) as tf.Tensor1D;
    const logprob = tf.sub(tf.sub(final.targetLogit, shift), logTotal) as tf.Tensor1D;
    const entropy =
      final.weighted === undefined
        ? undefined
        : (tf.sub(logTotal, tf.reshape(tf.div(final.weighted, final.total), [-1])) as tf.Tensor1D);
    return { logprob, shift, logTotal, entropy };
  });
  tf.dispose(stateTensors(final));
  return result;
};

interface SavedForward {
  readonly hidden: tf.Tensor2D;
  readonly weight: tf.Tensor2D;
  readonly targets: tf.Tensor1D;
  readonly shift: tf.Tensor1D;
  readonly logTotal: tf.Tensor1D;
  readonly entropy: tf.Tensor1D | undefined;
}

/**
 * Backward, one vocabulary chunk `W_k` (rows `[k, k + size)` of `weight`) at a time, vocabulary-major:
 * recompute `logitsᵀ_k = W_k · hiddenᵀ` `[size, N]` and the chunk's probabilities. The gradient of
 * the logits is `G = onehot·dLogprob − Q` with `Q = p·dLogprob (+ p·(log p + H)·dEntropy)`. Only
 * `Q` is spread over the vocabulary: per chunk, `dW_k = −Qᵀ_k · hidden` (rows of the weight
 * gradient, assembled without a `[V, H]` temporary) and `Sᵀ += W_kᵀ · Qᵀ_k` (`S = Σ_k Q_k · W_k`).
 * The one-hot part touches one row per token and is added once: `dHidden = dLogprob ⊙ W[t] − S`,
 * `dW[t_n] += dLogprob_n · hidden_n` (no one-hot matrix per chunk).
 *
 * Without entropy, `Q = diag(dLogprob) · p`: the token scale is folded into the small `[N, H]`
 * operands (`dW_k = pᵀ_k · (−dLogprob ⊙ hidden)`, `dHidden = dLogprob ⊙ (W[t] − Σ_k p_k · W_k)`).
 */
const backward = (
  saved: SavedForward,
  dLogprob: tf.Tensor1D,
  dEntropy: tf.Tensor1D | undefined,
  layout: Layout,
  weightGradient: boolean,
): [tf.Tensor2D, tf.Tensor2D | undefined] => {
  const tokenScale = tf.reshape(dLogprob, [-1, 1]) as tf.Tensor2D;
  const entropyTerms =
    dEntropy !== undefined && saved.entropy !== undefined
      ? { entropy: saved.entropy, dLogprob, dEntropy }
      : undefined;
  const hiddenT = tf.transpose(saved.hidden) as tf.Tensor2D;
  // dW_k = Qᵀ_k · rightFactor; without entropy Q = p and dLogprob scales the hidden side.
  const rightFactor = tf.tidy(() =>
    entropyTerms === undefined ? tf.neg(tf.mul(saved.hidden, tokenScale)) : tf.neg(saved.hidden),
  ) as tf.Tensor2D;
  // Sᵀ = Σ_k W_kᵀ · Qᵀ_k [H, N]: the chunk's weight rows enter as the (transposed) left operand. On
  // wasm that is ~1.6× faster than Q_k · W_k (95 vs 157 ms per [16024, 256] chunk at N = 128):
  // XNNPACK packs a product's right operand on every call, and W_k is the larger of the two.
  let hiddenSumT = tf.zeros([layout.hiddenSize, layout.tokens]) as tf.Tensor2D;
  const weightRowsOf = ({ start, size }: Chunk): tf.Tensor2D | undefined => {
    const [rows, nextSum] = tf.tidy(() => {
      const weightRows = size === layout.vocabulary ? saved.weight : sliceRows(saved.weight, start, size);
      const logitsT = tf.matMul(weightRows, hiddenT) as tf.Tensor2D;
      const chunkQT = vocabularyChunkProbabilities(logitsT, saved.shift, saved.logTotal, entropyTerms);
      return [
        weightGradient ? tf.matMul(chunkQT, rightFactor) : undefined,
        tf.add(hiddenSumT, tf.matMul(weightRows, chunkQT, true, false)),
      ];
    });
    hiddenSumT.dispose();
    hiddenSumT = nextSum as tf.Tensor2D;
    return rows as tf.Tensor2D | undefined;
  };
  let dWeight: tf.Tensor2D | undefined;
  if (weightGradient) {
    // dW[t_n] += dLogprob_n · hidden_n: the one-hot part, for all chunks at once.
    const targetRows = tf.mul(saved.hidden, tokenScale) as tf.Tensor2D;
    dWeight = assembleRows(
      layout.vocabulary,
      layout.hiddenSize,
      layout.vocabularyChunks,
      (chunk) => weightRowsOf(chunk)!,
      { indices: saved.targets, rows: targetRows },
    );
    targetRows.dispose();
  } else for (const chunk of layout.vocabularyChunks) weightRowsOf(chunk);
  const dHidden = tf.tidy(() => {
    // dLogprob ⊙ W[t] − S, with S = Σ_k Q_k · W_k (without entropy: dLogprob ⊙ (W[t] − Σ_k p_k · W_k)).
    const targetWeights = tf.gather(saved.weight, saved.targets);
    const hiddenSum = tf.transpose(hiddenSumT);
    return entropyTerms === undefined
      ? tf.mul(tf.sub(targetWeights, hiddenSum), tokenScale)
      : tf.sub(tf.mul(targetWeights, tokenScale), hiddenSum);
  }) as tf.Tensor2D;
  tf.dispose([hiddenSumT, hiddenT, rightFactor, tokenScale]);
  return [dHidden, dWeight];
};

/**
 * Log-probability of each token's target under `softmax(hidden · weightᵀ)` — the lm_head projection
 * fused with {@link tokenLogprobs} so the `[N, V]` logits never exist:
 * `logprob_n = (hidden_n · w_{t_n}) - logsumexp_v(hidden_n · w_v)`.
 *
 * - Forward: vocabulary chunks `W_k` of `⌊chunkSize·V/max(N, H)⌋` rows; each chunk's logits
 *   `[N, rows]` live only long enough to be folded into a streaming log-sum-exp (running maximum,
 *   rescaled sums), the entropy sums and the target logits.
 * - Backward (`tf.customGrad`): recomputes the logits in vocabulary chunks `[⌊chunkSize·V/max(N, H)⌋, N]`
 *   from the saved per-row log-sum-exp, and accumulates `dHidden [N, H]` and the rows of
 *   `dWeight [V, H]`. Cost: one extra projection (4 matmul passes instead of 3).
 *
 * Differentiable in `hidden` and `weight` (and through `entropy` when asked); `weightGradient: false`
 * makes it differentiable in `hidden` alone, for a frozen lm_head.
 *
 * @param hidden - `[N, H]` float32 final hidden states.
 * @param weight - `[V, H]` float32, laid out as HF's `lm_head.weight` (tied embeddings: the embedding matrix).
 * @param targets - `[N]` int32 token ids in `[0, V)`.
 * @returns `[N]` log-probabilities, or `{ logprobs, entropy }` with `entropy: true`.
 *
 * @example
 * ```ts
 * const logp = linearTokenLogprobs(hidden, lmHead, targets, { chunkSize: 32 });
 * const { logprobs, entropy } = linearTokenLogprobs(hidden, lmHead, targets, { entropy: true });
 * ```
 * @since 0.1.0
 * @category ops
 */
export function linearTokenLogprobs(
  hidden: tf.Tensor2D,
  weight: tf.Tensor2D,
  targets: tf.Tensor1D,
  options?: LinearTokenLogprobsOptions & { readonly entropy?: false },
): tf.Tensor1D;
export function linearTokenLogprobs(
  hidden: tf.Tensor2D,
  weight: tf.Tensor2D,
  targets: tf.Tensor1D,
  options: LinearTokenLogprobsOptions & { readonly entropy: true },
): LinearTokenLogprobsWithEntropy;
export function linearTokenLogprobs(
  hidden: tf.Tensor2D,
  weight: tf.Tensor2D,
  targets: tf.Tensor1D,
  options: LinearTokenLogprobsOptions = {},
): tf.Tensor1D | LinearTokenLogprobsWithEntropy {
  const layout = layoutOf(hidden, weight, targets, options);
  const weightGradient = options.weightGradient ?? true;
  const gradientOf = (dy: tf.Tensor, forwardState: SavedForward): Array<tf.Tensor> => {
    const keep = (grads: [tf.Tensor2D, tf.Tensor2D | undefined]) =>
      grads[1] === undefined ? [grads[0]] : [grads[0], grads[1]];
    if (forwardState.entropy === undefined)
      return keep(backward(forwardState, dy as tf.Tensor1D, undefined, layout, weightGradient));
    const [dLogprob, dEntropy] = tf.unstack(dy) as [tf.Tensor1D, tf.Tensor1D];
    const grads = keep(backward(forwardState, dLogprob, dEntropy, layout, weightGradient));
    tf.dispose([dLogprob, dEntropy]);
    return grads;
  };
  const run = (h: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
    const { logprob, shift, logTotal, entropy } = forward(h, w, targets, layout);
    const value = entropy === undefined ? logprob : tf.stack([logprob, entropy]);
    // A frozen weight is read from the closure in the backward: it is not saved (no copy).
    save([
      h,
      ...(weightGradient ? [w] : []),
      targets,
      shift,
      logTotal,
      ...(entropy === undefined ? [] : [entropy]),
    ]);
    tf.dispose([shift, logTotal]);
    if (entropy !== undefined) tf.dispose([logprob, entropy]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
        const [savedHidden, ...rest] = saved;
        const savedWeight = weightGradient ? rest.shift() : w;
        const [savedTargets, savedShift, savedLogTotal, savedEntropy] = rest;
        return gradientOf(dy, {
          hidden: savedHidden as tf.Tensor2D,
          weight: savedWeight as tf.Tensor2D,
          targets: savedTargets as tf.Tensor1D,
          shift: savedShift as tf.Tensor1D,
          logTotal: savedLogTotal as tf.Tensor1D,
          entropy: savedEntropy as tf.Tensor1D | undefined,
        });
      },
    };
  };
  const compute = weightGradient
    ? tf.customGrad((h, w, save) => run(h as tf.Tensor2D, w as tf.Tensor2D, save as tf.GradSaveFunc))
    : tf.customGrad((h, save) => run(h as tf.Tensor2D, weight, save as tf.GradSaveFunc));
  const call = () => (weightGradient ? compute(hidden, weight) : compute(hidden));
  if (!layout.withEntropy) return call() as tf.Tensor1D;
  return tf.tidy(() => {
    const [logprobs, entropy] = tf.unstack(call()) as [tf.Tensor1D, tf.Tensor1D];
    return { logprobs, entropy };
  });
}
