import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import * as tf from "@tensorflow/tfjs-core";

/** Backends the numeric tests run on (forward kernels only). */
export const testBackendNames = ["cpu", "wasm"] as const;

let wasmLoaded: Promise<boolean> | undefined;

/** Activate a backend; false when it cannot start here. */
export const useBackend = async (name: string): Promise<boolean> => {
  if (name === "wasm") {
    wasmLoaded ??= import("@tensorflow/tfjs-backend-wasm").then(
      () => true,
      () => false,
    );
    if (!(await wasmLoaded)) return false;
  }
  return tf.setBackend(name);
};
