import { totalmem } from "node:os";
import type { Qwen25VLConfig } from "../config/Qwen25VLConfig.js";
import { weightSpecs } from "../internal/model/weightSpec.js";
import { ModelMemoryError } from "./errors.js";
import type { Qwen25VLParts } from "./Qwen25VLParts.js";

/**
 * What a model's weights need in float32.
 *
 * @since 0.1.0
 * @category memory
 */
export interface Qwen25VLMemoryEstimate {
  readonly parameterCount: number;
  readonly textParameterCount: number;
  readonly visionParameterCount: number;
  /** `4 · parameterCount`: every backend here holds weights in float32. */
  readonly weightBytes: number;
}

const count = (specs: ReadonlyArray<{ readonly shape: ReadonlyArray<number> }>) =>
  specs.reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1), 0);

/**
 * Count the parameters of the chosen parts (a tied LM head once) and their float32 bytes.
 * For Qwen2.5-VL-3B this gives 3,754,622,976 parameters, about 15 GB.
 *
 * @since 0.1.0
 * @category memory
 */
export const estimateQwen25VLMemory = (
  config: Qwen25VLConfig,
  parts: Qwen25VLParts = "all",
): Qwen25VLMemoryEstimate => {
  const text = parts === "vision" ? 0 : count(weightSpecs(config, "text"));
  const vision = parts === "text" ? 0 : count(weightSpecs(config, "vision"));
  return {
    parameterCount: text + vision,
    textParameterCount: text,
    visionParameterCount: vision,
    weightBytes: 4 * (text + vision),
  };
};

/** The wasm32 heap limit of the wasm backend. */
const wasmHeapBytes = 4 * 1024 ** 3;
/** Room kept for activations and the runtime on a capped heap. */
const wasmReserveBytes = 256 * 1024 ** 2;

/**
 * Bytes a backend can hold, when known: the wasm heap is capped at 4 GiB (wasm32); `cpu` and
 * `tensorflow` (tfjs-node) allocate in the process, bounded by the machine's memory. GPU backends
 * depend on the device and are reported as unknown (`undefined`).
 *
 * @since 0.1.0
 * @category memory
 */
export const backendCapacityBytes = (backend: string): number | undefined => {
  if (backend === "wasm") return wasmHeapBytes - wasmReserveBytes;
  if (backend === "cpu" || backend === "tensorflow") return totalmem();
  return undefined;
};

/**
 * Fail at once with {@link ModelMemoryError} when `requiredBytes` cannot fit `backend`, naming the
 * backends that can hold it. Backends of unknown capacity pass.
 *
 * @since 0.1.0
 * @category memory
 */
export const assertFitsBackend = (backend: string, requiredBytes: number): void => {
  const capacity = backendCapacityBytes(backend);
  if (capacity === undefined || requiredBytes <= capacity) return;
  const fittingBackends = ["cpu", "tensorflow", "wasm"].filter((name) => {
    const other = backendCapacityBytes(name);
    return other !== undefined && requiredBytes <= other;
  });
  const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  const others =
    fittingBackends.length === 0
      ? "no CPU backend on this machine can; use a GPU backend (webgpu) with enough device memory"
      : `backends that can hold it: ${fittingBackends.join(", ")} (and webgpu with enough device memory)`;
  throw new ModelMemoryError({
    backend,
    requiredBytes,
    availableBytes: capacity,
    fittingBackends,
    reason: `the float32 weights need ${gib(requiredBytes)} but ${backend} can hold ${gib(capacity)}; ${others}`,
  });
};
