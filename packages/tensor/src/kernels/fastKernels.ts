import * as tf from "@tensorflow/tfjs-core";

/**
 * Which implementation {@link defineKernelOp} dispatches to: `fast` uses a kernel registered for
 * the active backend when there is one, `reference` always uses the composite tfjs version.
 *
 * @since 0.1.0
 * @category kernels
 */
export type KernelMode = "fast" | "reference";

// biome-ignore lint/suspicious/noExplicitAny: implementations of different ops have different signatures.
type AnyImplementation = (...args: any) => unknown;

/** op name → tfjs backend name → fast implementation. */
const registry = new Map<string, Map<string, AnyImplementation>>();
let mode: KernelMode = process.env.APO_KERNELS === "reference" ? "reference" : "fast";

/**
 * Registers a faster implementation of `op` for one tfjs backend (`"webgpu"`, `"wasm"`, `"cpu"`,
 * `"tensorflow"`), e.g. a fused WGSL kernel. It must compute what the reference computes (tests
 * compare the two) and be differentiable where the reference is (wrap it in `tf.customGrad` when
 * it runs a custom kernel). Returns a function that removes it again.
 *
 * @example
 * ```ts
 * const unregister = registerFastKernel("tokenLogprobs", "webgpu", fusedTokenLogprobs)
 * ```
 *
 * @since 0.1.0
 * @category kernels
 */
export const registerFastKernel = <Args extends ReadonlyArray<unknown>, Result>(
  op: string,
  backend: string,
  implementation: (...args: Args) => Result,
): (() => void) => {
  const forOp = registry.get(op) ?? new Map<string, AnyImplementation>();
  registry.set(op, forOp);
  forOp.set(backend, implementation);
  return () => {
    if (forOp.get(backend) === implementation) forOp.delete(backend);
  };
};

/**
 * The fast implementation of `op` for a tfjs backend (default: the active one), if registered.
 *
 * @since 0.1.0
 * @category kernels
 */
export const fastKernelFor = (op: string, backend: string = tf.getBackend()): AnyImplementation | undefined =>
  registry.get(op)?.get(backend);

/**
 * Sets the dispatch mode for the whole process (`APO_KERNELS=reference` sets `reference` at start-up).
 *
 * @since 0.1.0
 * @category kernels
 */
export const setKernelMode = (next: KernelMode): void => {
  mode = next;
};

/**
 * The current dispatch mode.
 *
 * @since 0.1.0
 * @category kernels
 */
export const kernelMode = (): KernelMode => mode;

/**
 * Runs `body` with every op on its reference implementation, then restores the previous mode
 * (after the promise settles when `body` is async). Meant for tests that compare fast and
 * reference results; the mode is process-wide, so do not interleave it with other work.
 *
 * @since 0.1.0
 * @category kernels
 */
export const withReferenceKernels = <A>(body: () => A): A => {
  const previous = mode;
  mode = "reference";
  let result: A;
  try {
    result = body();
  } catch (error) {
    mode = previous;
    throw error;
  }
  if (result instanceof Promise) {
    return result.finally(() => {
      mode = previous;
    }) as A;
  }
  mode = previous;
  return result;
};

/**
 * An op with a seam: calls the fast kernel registered for the active backend (in `fast` mode), and
 * otherwise `reference`, the composite tfjs implementation that works everywhere. `op.reference`
 * calls the reference directly.
 *
 * @example
 * ```ts
 * export const tokenLogprobs = defineKernelOp("tokenLogprobs", tokenLogprobsComposite)
 * ```
 *
 * @since 0.1.0
 * @category kernels
 */
export const defineKernelOp = <Args extends ReadonlyArray<unknown>, Result>(
  op: string,
  reference: (...args: Args) => Result,
): ((...args: Args) => Result) & { readonly op: string; readonly reference: (...args: Args) => Result } => {
  const dispatch = (...args: Args): Result => {
    const fast = mode === "fast" ? fastKernelFor(op) : undefined;
    return fast === undefined ? reference(...args) : (fast(...args) as Result);
  };
  return Object.assign(dispatch, { op, reference });
};
