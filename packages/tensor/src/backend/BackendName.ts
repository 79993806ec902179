/**
 * The TensorFlow.js backends apo-rl knows how to select, in the default order of preference.
 *
 * @since 0.1.0
 * @category backend
 */
export const BACKEND_NAMES = ["tfjs-node-gpu", "tfjs-node", "webgpu", "wasm", "cpu"] as const;

/**
 * A backend apo-rl can select: `tfjs-node-gpu` (CUDA), `tfjs-node` (native TensorFlow on CPU),
 * `webgpu` (Dawn through the `webgpu` npm package), `wasm` (the embedded default) or `cpu` (plain JS).
 *
 * @since 0.1.0
 * @category backend
 */
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * Whether a string names a backend apo-rl knows.
 *
 * @since 0.1.0
 * @category backend
 */
export const isBackendName = (value: string): value is BackendName =>
  (BACKEND_NAMES as ReadonlyArray<string>).includes(value);
