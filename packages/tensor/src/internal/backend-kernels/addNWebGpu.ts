import type * as tf from "@tensorflow/tfjs-core";

/** The part of tfjs-backend-webgpu's `WebGPUBackend` this kernel uses. */
interface WebGpuBackend {
  readonly device: { readonly limits: { readonly maxStorageBuffersPerShaderStage: number } };
  disposeData(dataId: tf.DataId): boolean;
}

/**
 * `AddN` on webgpu for any number of inputs. tfjs-backend-webgpu 4.22 binds every input as one
 * storage buffer of a single shader; past the device's `maxStorageBuffersPerShaderStage` (one is the
 * output) Dawn rejects the pipeline, skips the dispatch and the output keeps whatever its buffer held
 * — no exception. A gradient-norm sum over a model's parameters has dozens of inputs. Inputs are
 * summed in groups that fit, then the partial sums likewise.
 */
export const splitAddN =
  (original: tf.KernelFunc): tf.KernelFunc =>
  (args) => {
    const backend = args.backend as unknown as WebGpuBackend;
    const inputs = Object.values(args.inputs) as Array<tf.TensorInfo>;
    const perShader = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1);
    if (inputs.length <= perShader) return original(args);
    const sum = (group: Array<tf.TensorInfo>) =>
      original({ ...args, inputs: group as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo;
    let level = inputs;
    let owned = false; // whether `level` holds partial sums made here (disposed once summed)
    while (level.length > perShader) {
      const next: Array<tf.TensorInfo> = [];
      for (let start = 0; start < level.length; start += perShader) {
        const group = level.slice(start, start + perShader);
        next.push(group.length === 1 && owned ? (group[0] as tf.TensorInfo) : sum(group));
      }
      if (owned) for (const info of level) if (!next.includes(info)) backend.disposeData(info.dataId);
      level = next;
      owned = true;
    }
    const result = sum(level);
    for (const info of level) backend.disposeData(info.dataId);
    return result;
  };
