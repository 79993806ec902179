import * as tf from "@tensorflow/tfjs-core";
import { guardBindingLimit } from "../internal/backend/bindingLimit.js";
import { assertGradientsRegistered } from "../internal/backend/gradients.js";
import {
  type Adapter,
  describeAdapter,
  requestDevice,
  softwareAdapter,
} from "../internal/backend/webGpuAdapter.js";
import { installMissingKernels } from "../internal/backend-kernels/installMissingKernels.js";
import { BackendUnavailableError } from "./errors.js";

/**
 * The backends a page (or any host without Node) can run: the caller imports their tfjs packages.
 *
 * @since 0.2.0
 * @category backend
 */
export type PortableBackendName = "webgpu" | "wasm" | "cpu";

/**
 * What {@link activateBackend} did: the backend now active, a detail and the kernels apo-rl added.
 *
 * @since 0.2.0
 * @category backend
 */
export interface ActivatedBackend {
  readonly name: PortableBackendName;
  readonly detail: string;
  readonly addedKernels: ReadonlyArray<string>;
}

/**
 * The WebGPU entry point of a page (`navigator.gpu`) and tfjs-backend-webgpu's `WebGPUBackend`
 * class, for {@link registerWebGpuBackend}.
 *
 * @since 0.2.0
 * @category backend
 */
export interface WebGpuHost {
  readonly gpu: { requestAdapter(options: Record<string, unknown>): Promise<unknown> } | undefined;
  readonly WebGPUBackend: new (device: unknown, info?: unknown) => tf.KernelBackend;
}

/**
 * Register tfjs's WebGPU backend on the adapter of `host.gpu`, with the limits apo-rl needs raised
 * (as the Node path does through Dawn) and the binding-size guard; resolves to a description of the
 * adapter, and, for a software one (SwiftShader, lavapipe), why it runs on the CPU. Rejects with
 * `BackendUnavailableError` when there is no `navigator.gpu` or no adapter.
 *
 * @since 0.2.0
 * @category backend
 */
export const registerWebGpuBackend = async (
  host: WebGpuHost,
): Promise<{ readonly detail: string; readonly software?: string }> => {
  if (host.gpu === undefined)
    throw new BackendUnavailableError({ requested: ["webgpu"], reason: "navigator.gpu is not defined" });
  const adapter = (await host.gpu.requestAdapter({ powerPreference: "high-performance" })) as Adapter | null;
  if (adapter === null)
    throw new BackendUnavailableError({
      requested: ["webgpu"],
      reason: "navigator.gpu.requestAdapter() returned no adapter",
    });
  if (tf.findBackendFactory("webgpu") != null) tf.removeBackend("webgpu");
  tf.registerBackend(
    "webgpu",
    async () => {
      const backend = new host.WebGPUBackend(await requestDevice(adapter), adapter.info);
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

/**
 * Make `name` the active tfjs backend, with the kernels apo-rl adds or replaces there (the same set
 * `initBackend` installs in Node). The backend's package must already be imported (and, for wasm,
 * its `.wasm` paths set; for webgpu, {@link registerWebGpuBackend} awaited). Rejects with
 * `BackendUnavailableError` when tfjs cannot initialise it.
 *
 * @since 0.2.0
 * @category backend
 */
export const activateBackend = async (
  name: PortableBackendName,
  detail: string = name,
): Promise<ActivatedBackend> => {
  assertGradientsRegistered();
  if (tf.findBackendFactory(name) == null)
    throw new BackendUnavailableError({
      requested: [name],
      reason: `no tfjs backend "${name}" is registered: import its package first`,
    });
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (cause) {
    throw new BackendUnavailableError({
      requested: [name],
      reason: cause instanceof Error ? cause.message : String(cause),
    });
  }
  if (!ok)
    throw new BackendUnavailableError({ requested: [name], reason: `tfjs failed to initialise ${name}` });
  await tf.ready();
  if (name === "cpu") (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  return { name, detail, addedKernels: installMissingKernels(name) };
};
