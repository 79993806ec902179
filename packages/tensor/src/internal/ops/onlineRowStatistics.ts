import * as tf from "@tensorflow/tfjs-core";
import { NEGATIVE_FLOOR } from "./rowStatistics.js";

/**
 * Row statistics of logits `[N, V]` accumulated over column chunks `[N, width]` (a streaming
 * log-sum-exp): after every chunk, `total = Σ_v exp(x_v − safeShift)` over the columns seen so
 * far, `weighted = Σ_v exp(x_v − safeShift)·max(x_v − safeShift, floor)` (for the entropy), and
 * `targetLogit` holds `x_{t_n}` once the chunk holding `t_n` was seen. `shift` is the running
 * maximum (`-inf` while a row has seen only `-inf`), `safeShift` the same with 0 in place of `-inf`.
 */
export interface OnlineRowState {
  readonly shift: tf.Tensor2D;
  readonly safeShift: tf.Tensor2D;
  readonly total: tf.Tensor2D;
  readonly weighted: tf.Tensor2D | undefined;
  readonly targetLogit: tf.Tensor1D;
}

/** Two-level row sums (see `rowStatistics`): fewer float32 rounding steps over wide chunks. */
const rowSum = (values: tf.Tensor2D): tf.Tensor2D => {
  const [rows, width] = values.shape;
  for (let block = Math.round(Math.sqrt(width)); block >= 64 && width >= 4096; block--) {
    if (width % block === 0)
      return tf.sum(tf.sum(tf.reshape(values, [rows, width / block, block]), 2), 1, true) as tf.Tensor2D;
  }
  return tf.sum(values, 1, true) as tf.Tensor2D;
};

/** `x[n, t_n − offset]` where `t_n` lies in `[offset, offset + width)`, else the previous value. */
const pickTargets = (
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  offset: number,
  previous: tf.Tensor1D | undefined,
): tf.Tensor1D => {
  const [rows, width] = logits.shape;
  const local = tf.sub(targets, tf.scalar(offset, "int32"));
  const inside = tf.logicalAnd(tf.greaterEqual(local, 0), tf.less(local, width));
  const column = tf.where(inside, local, tf.zerosLike(local));
  const flat = tf.add(tf.mul(tf.range(0, rows, 1, "int32"), tf.scalar(width, "int32")), column);
  const picked = tf.gather(tf.reshape(logits, [rows * width]), flat) as tf.Tensor1D;
  return tf.where(inside, picked, previous ?? tf.zerosLike(picked)) as tf.Tensor1D;
};

/**
 * Fold one chunk of logits `[N, width]` (vocabulary columns `[offset, offset + width)`) into the
 * running statistics. When the maximum grows from `m` to `m'`, the sums seen so far are rescaled by
 * `exp(m − m')` (0 for a row that had seen only `-inf`), and the entropy sum by the same factor after
 * moving its reference point: `Σ e^{x−m'}(x−m') = e^{m−m'}·(Σ e^{x−m}(x−m) + (m − m')·Σ e^{x−m})`.
 * Call inside `tf.tidy`.
 */
export const foldChunk = (
  state: OnlineRowState | undefined,
  logits: tf.Tensor2D,
  targets: tf.Tensor1D,
  offset: number,
  entropy: boolean,
): OnlineRowState => {
  const chunkMax = tf.max(logits, 1, true) as tf.Tensor2D;
  const shift = state === undefined ? chunkMax : (tf.maximum(state.shift, chunkMax) as tf.Tensor2D);
  const safeShift = tf.where(tf.isFinite(shift), shift, tf.zerosLike(shift)) as tf.Tensor2D;
  const centred = tf.sub(logits, safeShift) as tf.Tensor2D;
  const exponentials = tf.exp(centred) as tf.Tensor2D;
  const chunkTotal = rowSum(exponentials);
  const chunkWeighted = entropy
    ? rowSum(tf.mul(exponentials, tf.maximum(centred, NEGATIVE_FLOOR)) as tf.Tensor2D)
    : undefined;
  const targetLogit = pickTargets(logits, targets, offset, state?.targetLogit);
  if (state === undefined)
    return { shift, safeShift, total: chunkTotal, weighted: chunkWeighted, targetLogit };
  const factor = tf.where(
    tf.isFinite(state.shift),
    tf.exp(tf.sub(state.safeShift, safeShift)),
    tf.zerosLike(safeShift),
  ) as tf.Tensor2D;
  const total = tf.add(tf.mul(state.total, factor), chunkTotal) as tf.Tensor2D;
  const weighted =
    chunkWeighted === undefined || state.weighted === undefined
      ? undefined
      : (tf.add(
          tf.mul(factor, tf.add(state.weighted, tf.mul(tf.sub(state.safeShift, safeShift), state.total))),
          chunkWeighted,
        ) as tf.Tensor2D);
  return { shift, safeShift, total, weighted, targetLogit };
};

/** The tensors of a state, for disposal. */
export const stateTensors = (state: OnlineRowState): Array<tf.Tensor> => [
  state.shift,
  state.safeShift,
  state.total,
  state.targetLogit,
  ...(state.weighted === undefined ? [] : [state.weighted]),
];
