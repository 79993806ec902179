import type { ObjectiveContext, ObjectiveInput, ObjectiveOutput, ObjectiveV2 } from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import type { Matrix, ReferenceInput } from "./reference.js";

/** A small deterministic PRNG (mulberry32) so that generated batches are reproducible. */
export const random = (seed: number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** True when `ratio` is at least `margin` away from every kink of the clipped surrogate. */
const awayFromKinks = (logRatio: number, clip: ReadonlyArray<number>, margin: number) =>
  clip.every((bound) => Math.abs(Math.exp(logRatio) - bound) > margin);

/**
 * A random batch of `groups × groupSize` sequences of `tokens` tokens: ragged masks (every row keeps
 * at least one token), log-ratios in `[−0.4, 0.4]` kept away from the clip boundaries, mixed rewards
 * with a format bonus, and one uniform group when there are several groups.
 */
export const randomBatch = (
  seed: number,
  shape: { groups: number; groupSize: number; tokens: number },
  clipBounds: ReadonlyArray<number> = [0.8, 1.2, 1.28],
): ReferenceInput => {
  const next = random(seed);
  const { groups, groupSize, tokens } = shape;
  const S = groups * groupSize;
  const mask = Array.from({ length: S }, () => {
    const length = 1 + Math.floor(next() * tokens);
    return Array.from({ length: tokens }, (_, t) => (t < length ? 1 : 0));
  });
  const logpOld = mask.map((row) => row.map(() => -0.2 - 2 * next()));
  const logp = logpOld.map((row) =>
    row.map((old) => {
      let delta = 0.8 * next() - 0.4;
      while (!awayFromKinks(delta, clipBounds, 1e-3)) delta = 0.8 * next() - 0.4;
      return old + delta;
    }),
  );
  const logpRef = logp.map((row) => row.map((value) => value + 0.6 * next() - 0.3));
  const correct = Array.from({ length: S }, (_, i) => (groups > 1 && i < groupSize ? true : next() < 0.5));
  const rewards = correct.map((flag, i) =>
    groups > 1 && i < groupSize ? 1.5 : (flag ? 1 : 0) + (next() < 0.5 ? 0.5 : 0),
  );
  return { logp, logpOld, logpRef, mask, rewards, correct, groupSize };
};

/** The tfjs tensors of a reference input (caller disposes them). */
export const toTensors = (input: ReferenceInput): ObjectiveInput<tf.Tensor> => ({
  logp: tf.tensor2d(input.logp as Array<Array<number>>),
  logpOld: tf.tensor2d(input.logpOld as Array<Array<number>>),
  ...(input.logpRef === undefined ? {} : { logpRef: tf.tensor2d(input.logpRef as Array<Array<number>>) }),
  mask: tf.tensor2d(input.mask as Array<Array<number>>),
  rewards: input.rewards,
  correct: input.correct,
  ...(input.lengths === undefined ? {} : { lengths: input.lengths }),
  groupSize: input.groupSize,
});

export const disposeInput = (input: ObjectiveInput<tf.Tensor>): void => {
  tf.dispose([
    input.logp,
    input.logpOld,
    input.mask,
    ...(input.logpRef === undefined ? [] : [input.logpRef]),
  ]);
};

/**
 * Value and gradient w.r.t. `logp` of an objective's loss, as plain arrays; disposes everything.
 * `loss` returns the loss tensor or an objective's whole output; the output's `deviceMetrics` (a GPU
 * backend's metrics) are awaited and merged into `metrics`. Reads asynchronously only, so it runs on
 * a GPU backend too.
 */
export const lossAndGradient = async (
  loss: (input: ObjectiveInput<tf.Tensor>) => tf.Tensor | ObjectiveOutput<tf.Tensor>,
  input: ObjectiveInput<tf.Tensor>,
): Promise<{ value: number; gradient: Matrix; metrics: Record<string, number> }> => {
  let output: ObjectiveOutput<tf.Tensor> | undefined;
  const { value, grad } = tf.valueAndGrad((logp: tf.Tensor) => {
    const result = loss({ ...input, logp });
    if (result instanceof tf.Tensor) return result as tf.Scalar;
    output = result;
    return result.loss as tf.Scalar;
  })(input.logp);
  try {
    const device = output?.deviceMetrics === undefined ? {} : await output.deviceMetrics;
    return {
      value: (await value.data())[0]!,
      gradient: (await grad.array()) as Array<Array<number>>,
      metrics: { ...output?.metrics, ...device },
    };
  } finally {
    tf.dispose([value, grad]);
  }
};

/**
 * An objective's whole-batch `loss` with every metric read: `metrics` merged with the awaited
 * `deviceMetrics` (which a GPU backend reports instead of reading synchronously). The caller
 * disposes `loss`.
 */
export const lossWithMetrics = async (
  objective: Pick<ObjectiveV2<tf.Tensor>, "loss">,
  input: ObjectiveInput<tf.Tensor>,
  context: ObjectiveContext,
): Promise<{ loss: tf.Tensor; metrics: Record<string, number> }> => {
  const output = objective.loss(input, context);
  const device = output.deviceMetrics === undefined ? {} : await output.deviceMetrics;
  return { loss: output.loss, metrics: { ...output.metrics, ...device } };
};
