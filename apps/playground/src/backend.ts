import {
  activateBackend,
  type PortableBackendName,
  registerWebGpuBackend,
  type WebGpuHost,
} from "@apo-rl/tensor/portable";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import wasmPlain from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url";
import wasmSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url";
import wasmThreadedSimd from "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url";
import { WebGPUBackend } from "@tensorflow/tfjs-backend-webgpu";
import * as tf from "@tensorflow/tfjs-core";
import type { BackendChoice } from "./settings.js";

/** The backend a run uses and why, shown to the user (as `apo-rl-doctor` reports it in Node). */
export interface ChosenBackend {
  readonly name: PortableBackendName;
  readonly reason: string;
}

// The .wasm binaries are bundled with the page (same origin): nothing is fetched from elsewhere.
setWasmPaths({
  "tfjs-backend-wasm.wasm": wasmPlain,
  "tfjs-backend-wasm-simd.wasm": wasmSimd,
  "tfjs-backend-wasm-threaded-simd.wasm": wasmThreadedSimd,
});

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

const webgpu = async (): Promise<ChosenBackend> => {
  const gpu = (navigator as Navigator & { gpu?: WebGpuHost["gpu"] }).gpu;
  // tfjs types the constructor with the DOM's GPUDevice; the host interface keeps it structural.
  const adapter = await registerWebGpuBackend({
    gpu,
    WebGPUBackend: WebGPUBackend as unknown as WebGpuHost["WebGPUBackend"],
  });
  const activated = await activateBackend("webgpu", adapter.detail);
  return {
    name: "webgpu",
    reason: `${activated.detail}${adapter.software === undefined ? "" : ` (${adapter.software})`}`,
  };
};

const wasm = async (why: string): Promise<ChosenBackend> => {
  await activateBackend("wasm");
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  return {
    name: "wasm",
    reason: `WebAssembly${simd === true ? " with SIMD" : ""}${threads === true ? ", threads" : ", one thread"}; ${why}`,
  };
};

/**
 * Activate the backend `choice` asks for: `auto` is webgpu when `navigator.gpu` gives an adapter,
 * else wasm (with the reason); `webgpu` falls back to wasm with the reason when it cannot start.
 */
export const chooseBackend = async (choice: BackendChoice): Promise<ChosenBackend> => {
  if (choice === "cpu") {
    await activateBackend("cpu");
    return { name: "cpu", reason: "plain JavaScript kernels; asked for by name" };
  }
  if (choice === "wasm") return wasm("asked for by name");
  try {
    return await webgpu();
  } catch (error) {
    return wasm(`webgpu unavailable: ${message(error)}`);
  }
};
