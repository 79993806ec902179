import type { ObjectiveV2, PolicyV1 } from "@apo-rl/core";
import type * as tf from "@tensorflow/tfjs-core";

/**
 * A policy the trainer can drive: the core contract over tfjs tensors, with `Variable` parameters.
 *
 * @since 0.1.0
 * @category policies
 */
export type TrainablePolicy = PolicyV1<tf.Tensor, tf.Variable>;

/**
 * An objective over tfjs tensors.
 *
 * @since 0.1.0
 * @category objectives
 */
export type TensorObjective = ObjectiveV2<tf.Tensor>;
