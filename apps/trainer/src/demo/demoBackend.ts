import type { GenerationRequest } from "@apo-rl/core";
import { syntheticCountingTask, toGenerationRequest } from "@apo-rl/datasets";
import { type BackendName, initBackend } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import { loadQwenPolicy } from "../qwen/loadQwenPolicy.js";

/**
 * Run what a training step runs — sampling, differentiable log-probs and their gradients — on one
 * tiny batch of the policy in `directory`, on the active backend; throws what the backend throws
 * (e.g. a kernel it lacks).
 *
 * @since 0.1.0
 * @category demo
 */
export const exerciseBackend = async (directory: string): Promise<void> => {
  const policy = await loadQwenPolicy(directory);
  try {
    const item = syntheticCountingTask({ trainSize: 1, heldOutSize: 0 }).train[0]!;
    const requests: ReadonlyArray<GenerationRequest> = [toGenerationRequest(item)];
    const rollouts = await policy.generate(requests, { n: 2, temperature: 1, maxNewTokens: 4, seed: 0 });
    const parameters = [...policy.trainableParameters()];
    const { value, grads } = tf.variableGrads(() => {
      const { logp, mask } = policy.logprobs({ requests, rollouts, temperature: 1 });
      return tf.sum(tf.mul(logp, mask)) as tf.Scalar;
    }, parameters);
    const allFinite = tf.tidy(() => tf.all(tf.isFinite(value)));
    const finite = (await allFinite.data())[0];
    tf.dispose([allFinite, value, ...Object.values(grads)]);
    if (finite !== 1) throw new Error("the log-probabilities are not finite");
  } finally {
    policy.dispose();
    policy.model.dispose();
  }
};

/**
 * Pick the demo's backend: `preferred` (wasm) when it initialises and runs {@link exerciseBackend}
 * on the checkpoint; otherwise the cpu backend, after logging why.
 *
 * @since 0.1.0
 * @category demo
 */
export const chooseDemoBackend = async (
  preferred: BackendName,
  directory: string,
  log: (line: string) => void,
): Promise<BackendName> => {
  try {
    await initBackend(preferred);
    await exerciseBackend(directory);
    return preferred;
  } catch (error) {
    if (preferred === "cpu") throw error;
    log(
      `backend ${preferred} cannot run the demo (${error instanceof Error ? error.message : String(error)}); falling back to cpu`,
    );
    await initBackend("cpu");
    return "cpu";
  }
};
