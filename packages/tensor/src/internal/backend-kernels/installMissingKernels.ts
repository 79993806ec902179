import * as tf from "@tensorflow/tfjs-core";
import { splitAddN } from "./addNWebGpu.js";
import { transposingBatchMatMul } from "./batchMatMulWasm.js";
import { conv2dBackpropFilterWasm } from "./conv2dBackpropFilterWasm.js";
import { einsumComposite } from "./einsumComposite.js";
import { identityWasm } from "./identityWasm.js";
import { inPlaceSlice } from "./sliceWasm.js";
import { simdTranspose } from "./transposeWasm.js";
import { inPlaceUnpack } from "./unpackWasm.js";
import { unsortedSegmentSumCpu } from "./unsortedSegmentSumCpu.js";
import { unsortedSegmentSumWasm } from "./unsortedSegmentSumWasm.js";
import { droppingOutOfRangeIds } from "./unsortedSegmentSumWebGpu.js";
import { wrapKernel, wrapWasmKernel } from "./wrapWasmKernel.js";

/**
 * Kernels apo-rl supplies per tfjs backend: `missing` ones tfjs does not ship there, `replaced` ones
 * whose tfjs version is unusably slow at training sizes.
 */
const kernels: Readonly<
  Record<string, { missing: ReadonlyArray<tf.KernelConfig>; replaced: ReadonlyArray<tf.KernelConfig> }>
> = {
  wasm: {
    missing: [
      unsortedSegmentSumWasm,
      { kernelName: "Einsum", backendName: "wasm", kernelFunc: einsumComposite("wasm") },
      conv2dBackpropFilterWasm,
    ],
    // tfjs's wasm Identity copies the buffer; every tensor a gradient saves goes through it.
    replaced: [identityWasm],
  },
  // tfjs's webgpu Einsum, like its cpu one, drops an operand that holds none of the summed indices.
  webgpu: {
    missing: [],
    replaced: [{ kernelName: "Einsum", backendName: "webgpu", kernelFunc: einsumComposite("webgpu") }],
  },
  cpu: {
    missing: [],
    // tfjs's cpu Einsum drops an operand that holds none of the summed indices ("i,jk->ij").
    replaced: [
      unsortedSegmentSumCpu,
      { kernelName: "Einsum", backendName: "cpu", kernelFunc: einsumComposite("cpu") },
    ],
  },
};

/** tfjs wasm kernels wrapped (their slow cases rerouted, the rest passed through). */
const wasmWrappers: ReadonlyArray<readonly [string, (original: tf.KernelFunc) => tf.KernelFunc]> = [
  ["BatchMatMul", transposingBatchMatMul],
  ["Slice", inPlaceSlice],
  ["Unpack", inPlaceUnpack],
  ["Transpose", simdTranspose],
];

/** tfjs webgpu kernels wrapped. */
const webGpuWrappers: ReadonlyArray<readonly [string, (original: tf.KernelFunc) => tf.KernelFunc]> = [
  ["AddN", splitAddN],
  ["UnsortedSegmentSum", droppingOutOfRangeIds],
];

const install = (config: tf.KernelConfig, replace: boolean): boolean => {
  const existing = tf.getKernel(config.kernelName, config.backendName);
  if (existing?.kernelFunc === config.kernelFunc) return true;
  if (existing !== undefined && !replace) return false;
  if (existing !== undefined) tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
  return true;
};

/**
 * Registers the kernels apo-rl supplies for a backend and returns their names. A missing kernel
 * that tfjs (a later version) does register is left alone.
 */
export const installMissingKernels = (tfjsName: string): ReadonlyArray<string> => {
  const entry = kernels[tfjsName];
  if (entry === undefined) return [];
  const wrapped =
    tfjsName === "wasm"
      ? wasmWrappers.filter(([name, wrap]) => wrapWasmKernel(name, wrap)).map(([name]) => name)
      : tfjsName === "webgpu"
        ? webGpuWrappers.filter(([name, wrap]) => wrapKernel("webgpu", name, wrap)).map(([name]) => name)
        : [];
  return [
    ...entry.missing.filter((config) => install(config, false)),
    ...entry.replaced.filter((config) => install(config, true)),
  ]
    .map((config) => config.kernelName)
    .concat(wrapped);
};
