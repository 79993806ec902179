import * as tf from "@tensorflow/tfjs-core";
import { conv2dBackpropFilterWasm } from "./conv2dBackpropFilterWasm.js";
import { einsumComposite } from "./einsumComposite.js";
import { unsortedSegmentSumWasm } from "./unsortedSegmentSumWasm.js";

/** Kernels apo-rl adds per tfjs backend, because tfjs does not ship them there. */
const missingKernels: Readonly<Record<string, ReadonlyArray<tf.KernelConfig>>> = {
  wasm: [
    unsortedSegmentSumWasm,
    { kernelName: "Einsum", backendName: "wasm", kernelFunc: einsumComposite("wasm") },
    conv2dBackpropFilterWasm,
  ],
};

/**
 * Registers the kernels a backend lacks (only those tfjs has not registered itself) and returns
 * the names of the kernels apo-rl provides on it.
 */
export const installMissingKernels = (tfjsName: string): ReadonlyArray<string> => {
  const configs = missingKernels[tfjsName] ?? [];
  const provided: Array<string> = [];
  for (const config of configs) {
    const existing = tf.getKernel(config.kernelName, tfjsName);
    if (existing === undefined) tf.registerKernel(config);
    if (existing === undefined || existing.kernelFunc === config.kernelFunc) provided.push(config.kernelName);
  }
  return provided;
};
