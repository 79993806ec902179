/**
 * Worker-thread entry of the verifier pool (built to `dist/worker.js`). It rebuilds verifiers from
 * their specs and verifies a chunk of items; the main thread enforces the time limit by terminating
 * the worker.
 */
import type { Verification } from "@apo-rl/core";
import { fromSpec } from "./fromSpec.js";
import { onSymbolicLoad } from "./internal/symbolic.js";
import type { BuiltinVerifier, VerifierSpec } from "./VerifierSpec.js";

interface Task {
  readonly spec?: VerifierSpec;
  readonly items?: ReadonlyArray<{ readonly response: string; readonly reference: string }>;
  /** Shared memory where the worker writes when it starts verifying (epoch milliseconds). */
  readonly started?: SharedArrayBuffer;
}

const cache = new Map<string, BuiltinVerifier>();

const verifierFor = (spec: VerifierSpec): BuiltinVerifier => {
  const key = JSON.stringify(spec);
  let verifier = cache.get(key);
  if (verifier === undefined) {
    verifier = fromSpec(spec);
    cache.set(key, verifier);
  }
  return verifier;
};

const verifyOne = (verifier: BuiltinVerifier, response: string, reference: string): Verification => {
  try {
    return verifier.verify(response, reference);
  } catch (error) {
    return { reward: 0, correct: false, details: { reason: "error", message: String(error) } };
  }
};

/** The start stamp of the chunk being verified. */
let startStamp: Float64Array | undefined;

// Loading mathjs (on first symbolic fallback) does not depend on the input: keep it off the clock.
onSymbolicLoad((milliseconds) => {
  if (startStamp !== undefined) startStamp[0] = (startStamp[0] as number) + milliseconds;
});

export default function verifyChunk(task: Task): ReadonlyArray<Verification> {
  if (task.spec === undefined || task.items === undefined) return [];
  const verifier = verifierFor(task.spec);
  startStamp = task.started === undefined ? undefined : new Float64Array(task.started);
  if (startStamp !== undefined) startStamp[0] = performance.timeOrigin + performance.now();
  return task.items.map((item) => verifyOne(verifier, item.response, item.reference));
}
