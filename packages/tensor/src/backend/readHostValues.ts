import * as tf from "@tensorflow/tfjs-core";

/** Backends whose tensors live in host (or wasm) memory: a synchronous read is a plain copy. */
const HOST_BACKENDS: ReadonlySet<string> = new Set(["cpu", "wasm", "tensorflow"]);

/**
 * The values of a tensor when reading them needs no device round-trip, else `undefined`. On a host
 * backend (`cpu`, `wasm`, `tensorflow`) always; on a device backend (`webgpu`) only while tfjs still
 * holds them on the host — a tensor made from an array and not yet used by a kernel (the first
 * kernel uploads it and drops the host copy). A synchronous GPU read is not possible in Node (Dawn
 * has no blocking readback) and would stall the device anyway, so callers must have another way
 * when this returns `undefined` (an `await tensor.data()`, or the same information from the caller).
 *
 * @example
 * ```ts
 * const values = readHostValues(mask);
 * const tokens = values === undefined ? lengths.reduce((a, b) => a + b, 0) : countPositive(values);
 * ```
 * @since 0.2.0
 * @category backend
 */
export const readHostValues = (tensor: tf.Tensor): ArrayLike<number> | undefined => {
  if (HOST_BACKENDS.has(tf.getBackend())) return tensor.dataSync() as ArrayLike<number>;
  const backend = tf.backend() as unknown as {
    tensorMap?: { get(dataId: tf.DataId): { values?: ArrayLike<number> | null } | undefined };
  };
  const values = backend.tensorMap?.get(tensor.dataId)?.values;
  return values ?? undefined;
};
