import * as tf from "@tensorflow/tfjs-core";
import { guardBindingLimit } from "./bindingLimit.js";
import { exportOf, importOptional } from "./packages.js";
import { missingVulkanLoader } from "./vulkanLoader.js";

// Minimal structural types of the WebGPU objects touched here (the `webgpu` package ships full ones,
// but it is an optional peer dependency, so this file must compile without it).
interface Adapter {
  readonly features: { has(name: string): boolean };
  readonly limits: Record<string, number>;
  readonly info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  requestDevice(descriptor: Record<string, unknown>): Promise<unknown>;
}
interface Gpu {
  requestAdapter(options: Record<string, unknown>): Promise<Adapter | null>;
}

/**
 * Limits raised to the adapter's maximum: the ones tfjs's own browser registration raises, plus
 * `maxStorageBuffersPerShaderStage` (the default 8 makes `AddN` with ≥ 8 inputs fail validation;
 * Dawn then skips the kernel and the output holds stale data, see `addNWebGpu`).
 */
const raisedLimits = [
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupSizeX",
  "maxComputeInvocationsPerWorkgroup",
];

/** Kept alive for the life of the process: dropping the Dawn instance would lose the adapter. */
let gpu: Gpu | undefined;

const describe = (adapter: Adapter): string => {
  const info = adapter.info ?? {};
  const parts = [info.vendor, info.architecture, info.device, info.description].filter(
    (part): part is string => typeof part === "string" && part !== "",
  );
  const gib = (name: string) => `${((adapter.limits[name] ?? 0) / 2 ** 30).toFixed(1)} GiB`;
  // The buffer limits bound the largest tensor (Qwen's [151936, 896] embedding is 0.5 GiB).
  return `WebGPU adapter ${parts.length > 0 ? parts.join(" / ") : "(no adapter info)"}, buffers ≤ ${gib("maxBufferSize")}, bindings ≤ ${gib("maxStorageBufferBindingSize")}`;
};

/**
 * Why an adapter is a software rasteriser (Mesa lavapipe/llvmpipe, SwiftShader, WARP), or
 * `undefined` for a hardware GPU. Such an adapter runs WebGPU on the CPU, slower than wasm: it is
 * used when asked for by name, never picked by the default order.
 */
export const softwareAdapter = (adapter: {
  readonly info?: Adapter["info"] & { isFallbackAdapter?: boolean };
  readonly isFallbackAdapter?: boolean;
}): string | undefined => {
  const info = adapter.info ?? {};
  const text = [info.vendor, info.architecture, info.device, info.description].join(" ").toLowerCase();
  const software = ["llvmpipe", "lavapipe", "swiftshader", "microsoft basic render"].find((name) =>
    text.includes(name),
  );
  if (software !== undefined) return `${software} runs WebGPU on the CPU`;
  if (info.isFallbackAdapter === true || adapter.isFallbackAdapter === true)
    return "a fallback (software) adapter";
  return undefined;
};

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

const requestDevice = (adapter: Adapter): Promise<unknown> =>
  adapter.requestDevice({
    requiredFeatures: ["timestamp-query"].filter((feature) => adapter.features.has(feature)),
    requiredLimits: Object.fromEntries(
      raisedLimits.filter((limit) => limit in adapter.limits).map((limit) => [limit, adapter.limits[limit]]),
    ),
  });

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
  return software === undefined ? { detail: describe(adapter) } : { detail: describe(adapter), software };
};
