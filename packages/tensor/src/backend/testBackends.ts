import * as tf from "@tensorflow/tfjs-core";
import { candidateInstalled, currentTfjsBackend, probe, serialised } from "../internal/backend/activation.js";
import type { BackendName } from "./BackendName.js";

/** Backends a numeric test suite can run on; the native ones only when installed. */
const testable: ReadonlyArray<BackendName> = ["tfjs-node-gpu", "tfjs-node", "webgpu", "wasm", "cpu"];

const probeAll = async (): Promise<ReadonlyArray<BackendName>> => {
  const previous = currentTfjsBackend();
  const usable: Array<BackendName> = [];
  for (const name of testable) {
    // tfjs-node and tfjs-node-gpu register the same "tensorflow" backend: keep at most one.
    const native = name === "tfjs-node-gpu" || name === "tfjs-node";
    if (native && (!candidateInstalled(name) || usable.some((other) => other.startsWith("tfjs-node"))))
      continue;
    if ((await probe(name)).usable) usable.push(name);
  }
  if (previous !== undefined && currentTfjsBackend() !== previous) await tf.setBackend(previous);
  return usable;
};

/**
 * The backends usable in this process for numeric test suites: always `wasm` and `cpu`, `webgpu`
 * when an adapter is found, a native TensorFlow backend when installed. Does not change the active
 * backend. Use it to run a suite on every backend:
 *
 * @example
 * ```ts
 * describe.each(await testBackends())("on %s", (name) => {
 *   beforeAll(() => initBackend(name))
 *   // ...
 * })
 * ```
 *
 * @since 0.1.0
 * @category backend
 */
export const testBackends = (): Promise<ReadonlyArray<BackendName>> => serialised(probeAll);
