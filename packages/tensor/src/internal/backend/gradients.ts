// tfjs-core ships its gradient definitions separately from the ops; the union package
// `@tensorflow/tfjs` registers them, tfjs-core alone does not. This side-effect import registers all
// of them in tfjs's global gradient registry (shared by every copy of tfjs-core in the process).
// The published build bundles this module because its extensionless imports do not load in Node.
import "@tensorflow/tfjs-core/dist/register_all_gradients.js";
// Likewise the chained methods (`x.sum()`, `x.matMul(w)`) that `@tensorflow/tfjs` installs on Tensor.
import "@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js";
import * as tf from "@tensorflow/tfjs-core";
import { registerEinsumGradient } from "../backend-kernels/einsumGradient.js";
import { registerStridedSliceGradient } from "../backend-kernels/stridedSliceGradient.js";
import { registerZeroGradients } from "../backend-kernels/zeroGradients.js";

/** Gradients whose absence would break training; checked so a bundler dropping the import is caught. */
const sentinels = ["GatherV2", "BatchMatMul", "Softmax", "Sum", "Einsum", "UnsortedSegmentSum"];

/** Adds the gradients tfjs-core lacks, and throws when the gradient registry was not populated. */
export const assertGradientsRegistered = (): void => {
  registerEinsumGradient();
  registerZeroGradients();
  registerStridedSliceGradient();
  const missing = sentinels.filter((kernelName) => tf.getGradient(kernelName) === undefined);
  if (missing.length > 0)
    throw new Error(`tfjs gradients are not registered (missing: ${missing.join(", ")})`);
};
