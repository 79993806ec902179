import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";

/** The tfjs backends these tests run on (every one importable here). */
export const testBackends: ReadonlyArray<string> = ["cpu"];

/** Switch to `name` and wait until it is ready. */
export const useBackend = async (name: string): Promise<void> => {
  await tf.setBackend(name);
  await tf.ready();
};
