import * as tf from "@tensorflow/tfjs-core";

const { decodeEinsumEquation, getEinsumPermutation, isIdentityPermutation } = tf.backend_util;

/** Runs a kernel registered for `backendName` directly (no tape, no engine scope). */
const runKernel = (
  backendName: string,
  kernelName: string,
  backend: tf.KernelBackend,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo => {
  const kernel = tf.getKernel(kernelName, backendName);
  if (kernel === undefined) throw new Error(`Einsum needs kernel ${kernelName} on ${backendName}`);
  return kernel.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo;
};

/**
 * An `Einsum` kernel built from the backend's own `Transpose`, `Reshape`, `Multiply` and `Sum`
 * kernels. Each operand is permuted into the equation's global dimension order and padded with
 * size-1 dimensions; operands are multiplied (broadcasting) left to right, and each summed
 * dimension is reduced as soon as no later operand uses it, which keeps intermediates small.
 */
export const einsumComposite =
  (backendName: string): tf.KernelFunc =>
  ({ inputs, backend: kernelBackend, attrs }) => {
    const backend = kernelBackend as tf.KernelBackend;
    const equation = (attrs as { equation: string }).equation;
    const operands = Object.keys(inputs)
      .sort((a, b) => Number(a) - Number(b))
      .map((key) => inputs[key] as tf.TensorInfo);
    const { allDims, summedDims, idDims } = decodeEinsumEquation(equation, operands.length);
    const nDims = allDims.length;
    const sizes = new Array<number>(nDims).fill(1);
    idDims.forEach((dims, term) => {
      dims.forEach((dim, axis) => {
        sizes[dim] = (operands[term] as tf.TensorInfo).shape[axis] as number;
      });
    });
    const lastUse = new Map(
      summedDims.map((dim) => [
        dim,
        Math.max(...idDims.flatMap((dims, term) => (dims.includes(dim) ? [term] : []))),
      ]),
    );
    const run = (kernelName: string, kernelInputs: tf.NamedTensorInfoMap, kernelAttrs: tf.NamedAttrMap) =>
      runKernel(backendName, kernelName, backend, kernelInputs, kernelAttrs);
    const release = (info: tf.TensorInfo) => backend.disposeData(info.dataId);
    let accumulated: tf.TensorInfo | undefined;
    operands.forEach((operand, term) => {
      const dims = idDims[term] as Array<number>;
      const { permutationIndices } = getEinsumPermutation(nDims, dims);
      const permuted = isIdentityPermutation(permutationIndices)
        ? operand
        : run("Transpose", { x: operand }, { perm: permutationIndices });
      const aligned = run(
        "Reshape",
        { x: permuted },
        { shape: sizes.map((size, dim) => (dims.includes(dim) ? size : 1)) },
      );
      if (permuted !== operand) release(permuted);
      let product = aligned;
      if (accumulated !== undefined) {
        product = run("Multiply", { a: accumulated, b: aligned }, {});
        release(accumulated);
        release(aligned);
      }
      const done = summedDims.filter((dim) => lastUse.get(dim) === term);
      if (done.length > 0) {
        const reduced = run("Sum", { x: product }, { axis: done, keepDims: true });
        release(product);
        product = reduced;
      }
      accumulated = product;
    });
    const outputShape = sizes.slice(0, nDims - summedDims.length);
    const result = run("Reshape", { x: accumulated as tf.TensorInfo }, { shape: outputShape });
    release(accumulated as tf.TensorInfo);
    return result;
  };
