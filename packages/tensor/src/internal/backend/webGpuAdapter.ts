// WebGPU adapter helpers shared by the Node (Dawn) and browser registrations; no Node built-ins.

// Minimal structural types of the WebGPU objects touched here (the `webgpu` package ships full ones,
// but it is an optional peer dependency, so this file must compile without it).
export interface Adapter {
  readonly features: { has(name: string): boolean };
  readonly limits: Record<string, number>;
  readonly info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  requestDevice(descriptor: Record<string, unknown>): Promise<unknown>;
}
export interface Gpu {
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

export const describeAdapter = (adapter: Adapter): string => {
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

/** A device with the limits apo-rl needs raised to the adapter's maximum. */
export const requestDevice = (adapter: Adapter): Promise<unknown> =>
  adapter.requestDevice({
    requiredFeatures: ["timestamp-query"].filter((feature) => adapter.features.has(feature)),
    requiredLimits: Object.fromEntries(
      raisedLimits.filter((limit) => limit in adapter.limits).map((limit) => [limit, adapter.limits[limit]]),
    ),
  });
