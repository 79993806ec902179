import * as tf from "@tensorflow/tfjs-core";

const wrappers = new WeakSet<tf.KernelFunc>();

/**
 * Registers `wrap(tfjs's kernel)` in place of the kernel `kernelName` of backend `backendName`
 * (once: an already wrapped kernel is left alone). Returns whether the kernel is wrapped.
 */
export const wrapKernel = (
  backendName: string,
  kernelName: string,
  wrap: (original: tf.KernelFunc) => tf.KernelFunc,
): boolean => {
  const existing = tf.getKernel(kernelName, backendName);
  if (existing === undefined) return false;
  if (wrappers.has(existing.kernelFunc)) return true;
  const wrapped = wrap(existing.kernelFunc);
  wrappers.add(wrapped);
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ ...existing, kernelFunc: wrapped });
  return true;
};

/** {@link wrapKernel} for the wasm backend. */
export const wrapWasmKernel = (
  kernelName: string,
  wrap: (original: tf.KernelFunc) => tf.KernelFunc,
): boolean => wrapKernel("wasm", kernelName, wrap);
