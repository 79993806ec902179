import type * as tf from "@tensorflow/tfjs-core";

/** The part of tfjs-backend-webgpu's `WebGPUBackend` this guard wraps. */
interface WebGpuProgramRunner {
  readonly device: { readonly limits: { readonly maxStorageBufferBindingSize: number } };
  runWebGPUProgram(
    program: { readonly outputShape: ReadonlyArray<number>; readonly shaderKey?: string },
    inputs: ReadonlyArray<tf.TensorInfo>,
    ...rest: Array<unknown>
  ): tf.TensorInfo;
}

const bytesOf = (shape: ReadonlyArray<number>): number =>
  4 * shape.reduce((product, size) => product * size, 1);

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/**
 * Makes every webgpu kernel throw, naming the tensor, when an input or its output is larger than
 * the device's `maxStorageBufferBindingSize`. WebGPU binds each operand whole; past the limit Dawn
 * rejects the pipeline, skips the dispatch and leaves the output's stale contents — a wrong result
 * without an error. (Mesa lavapipe allows 128 MiB: Qwen2.5-0.5B's [151936, 896] embedding, 519 MiB,
 * does not fit there; GPUs typically allow 2–4 GiB.)
 */
export const guardBindingLimit = (backend: tf.KernelBackend): void => {
  const runner = backend as unknown as WebGpuProgramRunner;
  const limit = runner.device.limits.maxStorageBufferBindingSize;
  const run = runner.runWebGPUProgram.bind(runner);
  runner.runWebGPUProgram = (program, inputs, ...rest) => {
    const operands = [
      ...inputs.map((input, index) => [`input ${index}`, input.shape] as const),
      ["output", program.outputShape] as const,
    ];
    for (const [role, shape] of operands)
      if (bytesOf(shape) > limit)
        throw new RangeError(
          `webgpu: the ${role} [${shape.join(", ")}] of ${program.shaderKey?.split("_")[0] ?? "a kernel"} takes ${mib(bytesOf(shape))}, more than this adapter's maxStorageBufferBindingSize (${mib(limit)}); use a GPU that allows more, or the wasm/cpu backend`,
        );
    return run(program, inputs, ...rest);
  };
};
