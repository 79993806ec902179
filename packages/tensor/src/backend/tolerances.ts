import type { BackendName } from "./BackendName.js";

/**
 * How much looser than on `wasm` a float32 comparison may be on each backend: multiply a test's
 * wasm tolerance by it. One place for every numeric suite (ops, objectives, Qwen2.5-VL parity).
 *
 * - `cpu`, `wasm`, `tfjs-node(-gpu)`: 1 — the suites' tolerances were set there.
 * - `webgpu`: 10 — WGSL float32 math (other reduction orders, fused multiply-adds, `exp`/`log` with
 *   a few ulp of error) on a GPU driver we have not measured. Measured on Mesa lavapipe
 *   (`pnpm exec vitest run --project tensor`, `--project qwen-vl` with `APO_BACKEND` unset): every
 *   op and gradient of `@apo-rl/tensor` within 7.6e-6 of wasm (V = 151,936 included), Qwen2.5-VL
 *   fixture logits within 2.4e-7 (text) and 4.4e-7 (image) of transformers. A wasm tolerance of
 *   1e-5 becomes 1e-4 on webgpu.
 *
 * @since 0.1.0
 * @category backend
 */
export const toleranceScale = (backend: BackendName | string): number => (backend === "webgpu" ? 10 : 1);
