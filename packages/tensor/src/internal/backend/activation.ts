import * as tf from "@tensorflow/tfjs-core";
import type { BackendName } from "../../backend/BackendName.js";
import { installMissingKernels } from "../backend-kernels/installMissingKernels.js";
import { type Candidate, candidateOf } from "./candidates.js";
import { assertGradientsRegistered } from "./gradients.js";
import { firstLine, isInstalled } from "./packages.js";
import { processHandlers, removeRethrowingHandlers } from "./processHandlers.js";

/** Whether a candidate can run here, with a detail (usable) or the reason it cannot. */
export type Outcome =
  | {
      readonly usable: true;
      readonly detail: string;
      readonly addedKernels: ReadonlyArray<string>;
      /** Set for a software adapter (lavapipe): usable by name, passed over by the default order. */
      readonly software?: string;
    }
  | { readonly usable: false; readonly installed: boolean; readonly reason: string };

const notInstalled = (candidate: Candidate): string | undefined => {
  const missing = candidate.packages.filter((name) => !isInstalled(name));
  return missing.length === 0 ? undefined : `${missing.join(" + ")} not installed; ${candidate.requirement}`;
};

const initialise = async (candidate: Candidate): Promise<Outcome> => {
  const missing = notInstalled(candidate);
  if (missing !== undefined) return { usable: false, installed: false, reason: missing };
  const handlersBefore = processHandlers();
  try {
    const prepared = await candidate.prepare();
    const { detail, software } =
      typeof prepared === "string" ? { detail: prepared, software: undefined } : prepared;
    const previous = currentTfjsBackend();
    const ok = await tf.setBackend(candidate.tfjsName);
    if (!ok)
      return {
        usable: false,
        installed: true,
        reason: `tfjs failed to initialise the ${candidate.tfjsName} backend`,
      };
    candidate.settle?.(tf.backend());
    const addedKernels = installMissingKernels(candidate.tfjsName);
    if (previous !== undefined && previous !== candidate.tfjsName) await tf.setBackend(previous);
    return software === undefined
      ? { usable: true, detail, addedKernels }
      : { usable: true, detail, addedKernels, software };
  } catch (error) {
    return { usable: false, installed: true, reason: firstLine(error) };
  } finally {
    removeRethrowingHandlers(handlersBefore);
  }
};

/** One initialisation per candidate per process; later calls reuse the outcome. */
const outcomes = new Map<BackendName, Promise<Outcome>>();

/**
 * Initialises a candidate once (importing its packages, registering the tfjs backend, adding the
 * kernels it lacks) and reports whether it is usable. Does not change the active backend.
 */
export const probe = (name: BackendName): Promise<Outcome> => {
  assertGradientsRegistered();
  const known = outcomes.get(name);
  if (known !== undefined) return known;
  const outcome = initialise(candidateOf(name));
  outcomes.set(name, outcome);
  return outcome;
};

/** The active tfjs backend's name, without making tfjs pick one when none is active yet. */
export const currentTfjsBackend = (): string | undefined => {
  const name = (tf.engine() as unknown as { backendName?: string | null }).backendName;
  return typeof name === "string" && name !== "" ? name : undefined;
};

/** Whether the packages of a candidate are installed (no import). */
export const candidateInstalled = (name: BackendName): boolean =>
  notInstalled(candidateOf(name)) === undefined;

/** Serialises backend switches: tfjs has one global active backend. */
let queue: Promise<unknown> = Promise.resolve();
export const serialised = <A>(task: () => Promise<A>): Promise<A> => {
  const result = queue.then(task, task);
  queue = result.catch(() => undefined);
  return result;
};
