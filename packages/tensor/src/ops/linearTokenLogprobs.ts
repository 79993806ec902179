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
import { vocabularyChunkGradient } from "../internal/ops/rowStatistics.js";

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
  for (const { start, size } of layout.vocabularyChunks) {
    const next = tf.tidy(() => {
      const rows = size === layout.vocabulary ? weight : sliceRows(weight, start, size);
      const logits = tf.matMul(hidden, rows, false, true) as tf.Tensor2D;
      // A plain object of tensors (one may be undefined): tidy keeps every tensor in it.
      return foldChunk(state, logits, targets, start, layout.withEntropy) as unknown as tf.TensorContainer;
    }) as unknown as OnlineRowState;
    if (state !== undefined) tf.dispose(stateTensors(state));
    state = next;
  }
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
 * recompute `logitsᵀ_k = W_k · hiddenᵀ` `[size, N]`, form `Gᵀ_k = (dL/dlogits_k)ᵀ`, then
 * `dW_k = Gᵀ_k · hidden` (rows of the weight gradient, assembled without a `[V, H]` temporary) and
 * `dHidden += (Gᵀ_k)ᵀ · W_k`.
 *
 * Without entropy, `G_k = diag(dLogprob) · (onehot - p)`: the token scale is folded into the small
 * `[N, H]` operands (`dW_k = (onehot - p)ᵀ · (dLogprob ⊙ hidden)`, `dHidden = dLogprob ⊙ Σ_k …`).
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
  // Without entropy the chunk gradient is (onehot - p)ᵀ and dLogprob scales the hidden side.
  const rightFactor = entropyTerms === undefined ? tf.mul(saved.hidden, tokenScale) : saved.hidden;
  let hiddenSum = tf.zeros([layout.tokens, layout.hiddenSize]) as tf.Tensor2D;
  const weightRowsOf = ({ start, size }: Chunk): tf.Tensor2D | undefined => {
    const [rows, nextSum] = tf.tidy(() => {
      const weightRows = size === layout.vocabulary ? saved.weight : sliceRows(saved.weight, start, size);
      const logitsT = tf.matMul(weightRows, saved.hidden, false, true) as tf.Tensor2D;
      const gradientT = vocabularyChunkGradient(
        logitsT,
        saved.shift,
        saved.logTotal,
        saved.targets,
        start,
        entropyTerms,
      );
      return [
        weightGradient ? tf.matMul(gradientT, rightFactor) : undefined,
        tf.add(hiddenSum, tf.matMul(gradientT, weightRows, true, false)),
      ];
    });
    hiddenSum.dispose();
    hiddenSum = nextSum as tf.Tensor2D;
    return rows as tf.Tensor2D | undefined;
  };
  let dWeight: tf.Tensor2D | undefined;
  if (weightGradient)
    dWeight = assembleRows(
      layout.vocabulary,
      layout.hiddenSize,
      layout.vocabularyChunks,
      (chunk) => weightRowsOf(chunk)!,
    );
  else for (const chunk of layout.vocabularyChunks) weightRowsOf(chunk);
  const dHidden = entropyTerms === undefined ? (tf.mul(hiddenSum, tokenScale) as tf.Tensor2D) : hiddenSum;
  if (dHidden !== hiddenSum) hiddenSum.dispose();
  if (rightFactor !== saved.hidden) rightFactor.dispose();
  tokenScale.dispose();
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
