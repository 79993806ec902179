import * as tf from "@tensorflow/tfjs-core";
import { clipByGlobalNorm } from "../gradientClipping.js";
import type { InMemoryAdamW } from "../InMemoryAdamW.js";

/**
 * The summed gradients and loss of a step's micro-batches.
 *
 * @since 0.2.0
 * @category training
 */
export interface AccumulatedGradients {
  /** One summed gradient per parameter, in `parameters` order (the caller disposes them). */
  readonly gradients: ReadonlyArray<tf.Tensor>;
  /** The summed loss (read asynchronously). */
  readonly loss: number;
}

/**
 * Gradient accumulation: `Σ_i ∇ loss_i` over `count` micro-batches, one forward + backward at a
 * time. `lossOf(i)` builds micro-batch `i`'s loss under the gradient tape; losses normalised by the
 * whole step's counts make the sum equal to the unsplit step's gradient. `+ 0 · Σ logp`-style
 * connections are the caller's business; a parameter without a gradient gets zeros.
 *
 * @since 0.2.0
 * @category training
 */
export const accumulateGradients = async (
  parameters: ReadonlyArray<tf.Variable>,
  count: number,
  lossOf: (index: number) => tf.Scalar,
): Promise<AccumulatedGradients> => {
  let accumulated: tf.Tensor[] | undefined;
  let loss: tf.Scalar = tf.scalar(0);
  for (let index = 0; index < count; index++) {
    const { value, grads } = tf.variableGrads(() => lossOf(index), [...parameters]);
    const gradients = parameters.map((parameter) => grads[parameter.name] ?? tf.zerosLike(parameter));
    const previous = accumulated;
    accumulated =
      previous === undefined
        ? gradients
        : gradients.map((gradient, position) => tf.add(previous[position]!, gradient));
    if (previous !== undefined) tf.dispose([...previous, ...gradients]);
    const total = tf.add(loss, value) as tf.Scalar;
    tf.dispose([loss, value]);
    loss = total;
  }
  const value = (await loss.data())[0] ?? 0;
  loss.dispose();
  return { gradients: accumulated ?? parameters.map((parameter) => tf.zerosLike(parameter)), loss: value };
};

/**
 * What {@link applyUpdate} did.
 *
 * @since 0.2.0
 * @category training
 */
export interface UpdateOutcome {
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  /** Why the update was skipped (non-finite loss or norm), or `null`. */
  readonly skipReason: string | null;
}

/**
 * Clip by global norm (`gradClip`, 0 = off) and apply AdamW, unless the loss or the gradient norm
 * is not finite (then weights and optimizer state stay untouched). Disposes `gradients`.
 *
 * @since 0.2.0
 * @category training
 */
export const applyUpdate = async (
  optimizer: InMemoryAdamW,
  gradients: ReadonlyArray<tf.Tensor>,
  settings: { readonly gradClip: number; readonly lr: number; readonly loss: number },
): Promise<UpdateOutcome> => {
  const clipped = await clipByGlobalNorm(gradients, settings.gradClip);
  tf.dispose([...gradients]);
  const skipReason = !Number.isFinite(settings.loss)
    ? `loss is ${settings.loss}`
    : !Number.isFinite(clipped.norm)
      ? `gradient norm is ${clipped.norm}`
      : null;
  if (skipReason === null) optimizer.update(clipped.gradients, settings.lr);
  tf.dispose([...clipped.gradients]);
  return { gradNorm: clipped.norm, skipReason };
};
