import type * as tf from "@tensorflow/tfjs-core";

/** The part of tfjs-backend-wasm's `BackendWasm` this kernel uses (its reference-counted data). */
interface ReferenceCountedBackend {
  incRef(dataId: tf.DataId): void;
}

/**
 * `Identity` for the wasm backend without a copy. tfjs-backend-wasm 4.22 copies the whole buffer,
 * and the engine runs `Identity` (through `clone`) for every tensor a gradient saves — so on wasm
 * each weight a matmul reads in a training forward was duplicated until the backward ran (148 MiB
 * for Qwen's `[151936, 256]` lm_head). tfjs tensors are immutable and the wasm backend counts
 * references to its buffers (as `Reshape` already uses), so the output shares the input's buffer, as
 * the cpu and WebGL backends' `Identity` do.
 */
const identity: tf.KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  (backend as unknown as ReferenceCountedBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

export const identityWasm: tf.KernelConfig = {
  kernelName: "Identity",
  backendName: "wasm",
  kernelFunc: identity,
};
