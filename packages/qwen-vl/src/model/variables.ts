import * as tf from "@tensorflow/tfjs-core";

/**
 * Which weights are created trainable: all, none, or those whose canonical name passes the
 * predicate. Default none (frozen); `variable.trainable` can be changed later.
 *
 * @since 0.1.0
 * @category model
 */
export type TrainableOption = boolean | ((name: string) => boolean);

let instances = 0;

/**
 * A variable factory for one model instance: tensors become variables named
 * `qwen25vl-<instance>/<canonical name>` (tfjs variable names are global, so every model gets its
 * own instance number). The factory disposes the tensor it is given.
 */
export const variableFactory = (trainable: TrainableOption | undefined) => {
  const instance = ++instances;
  return (value: tf.Tensor, name: string): tf.Variable => {
    const isTrainable = typeof trainable === "function" ? trainable(name) : trainable === true;
    const variable = tf.variable(value, isTrainable, `qwen25vl-${instance}/${name}`);
    value.dispose();
    return variable;
  };
};
