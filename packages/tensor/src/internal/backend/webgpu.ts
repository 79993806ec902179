import * as tf from "@tensorflow/tfjs-core";
import { guardBindingLimit } from "./bindingLimit.js";
import { exportOf, importOptional } from "./packages.js";
import { missingVulkanLoader } from "./vulkanLoader.js";
import { type Adapter, describeAdapter, type Gpu, requestDevice, softwareAdapter } from "./webGpuAdapter.js";

export { softwareAdapter };

/** Kept alive for the life of the process: dropping the Dawn instance would lose the adapter. */
let gpu: Gpu | undefined;

const requestAdapter = async (): Promise<Adapter> => {
  const noLoader = missingVulkanLoader();
  if (noLoader !== undefined) throw new Error(noLoader);
  const module = await importOptional("webgpu");
  const create = exportOf(module, "create") as (flags: ReadonlyArray<string>) => Gpu;
  const globals = exportOf(module, "globals") as Record<string, unknown>;
  // tfjs-backend-webgpu reads GPUBufferUsage, GPUMapMode, … from the global scope, as in a browser.
  for (const [key, value] of Object.entries(globals))
    if (!(key in globalThis))
      Object.defineProperty(globalThis, key, { value, configurable: true, writable: true });
  gpu ??= create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (adapter === null)
    throw new Error("no WebGPU adapter found (Dawn found no Vulkan/Metal/D3D12 GPU driver)");
  return adapter;
};

/**
 * Loads Dawn through the `webgpu` package, asks for an adapter and registers tfjs's WebGPU backend
 * on it. tfjs-backend-webgpu only self-registers when `navigator.gpu` exists (browsers), so the
 * backend factory is registered here instead.
 */
export const prepareWebGpu = async (): Promise<{ detail: string; software?: string }> => {
  const adapter = await requestAdapter();
  const module = await importOptional("@tensorflow/tfjs-backend-webgpu");
  const WebGPUBackend = exportOf(module, "WebGPUBackend") as new (
    device: unknown,
    info?: unknown,
  ) => tf.KernelBackend;
  // tfjs-core answers `null` (not `undefined`) for a name it does not know.
  if (tf.findBackendFactory("webgpu") == null)
    tf.registerBackend(
      "webgpu",
      async () => {
        // WebGPUBackend's constructor checks `navigator.gpu`, which Node does not define.
        const scope = globalThis as { navigator?: { gpu?: unknown } };
        if (scope.navigator === undefined)
          Object.defineProperty(globalThis, "navigator", {
            value: { gpu },
            configurable: true,
            writable: true,
          });
        else if (scope.navigator.gpu === undefined)
          Object.defineProperty(scope.navigator, "gpu", { value: gpu, configurable: true });
        const backend = new WebGPUBackend(await requestDevice(adapter), adapter.info);
        guardBindingLimit(backend);
        return backend;
      },
      3,
    );
  const software = softwareAdapter(adapter);
  return software === undefined
    ? { detail: describeAdapter(adapter) }
    : { detail: describeAdapter(adapter), software };
};
