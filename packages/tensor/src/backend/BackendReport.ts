import type { BackendName } from "./BackendName.js";

/**
 * What happened to one candidate backend during selection.
 *
 * - `chosen`: it was initialised and is now the active tfjs backend.
 * - `usable`: it was initialised successfully but another candidate was chosen.
 * - `unavailable`: it was tried and cannot run here; `reason` says why.
 * - `skipped`: it was not tried (not in the preference list, or an earlier candidate won).
 *
 * @since 0.1.0
 * @category backend
 */
export type CandidateStatus = "chosen" | "usable" | "unavailable" | "skipped";

/**
 * One candidate backend in a {@link BackendReport}.
 *
 * @since 0.1.0
 * @category backend
 */
export interface CandidateReport {
  readonly name: BackendName;
  /** The tfjs backend name it registers (`tensorflow`, `webgpu`, `wasm`, `cpu`). */
  readonly tfjsName: string;
  /** The npm packages it needs. */
  readonly packages: ReadonlyArray<string>;
  /** Whether every package it needs can be resolved from `@apo-rl/tensor`. */
  readonly installed: boolean;
  readonly status: CandidateStatus;
  /** `true` when the candidate was initialised successfully (`chosen` or `usable`). */
  readonly usable: boolean;
  /** For `chosen`/`usable`: a detail (e.g. the GPU adapter); otherwise why it was not used. */
  readonly reason: string;
}

/**
 * The outcome of {@link initBackend}: which backend is active, where the preference came from, and
 * the fate of every candidate.
 *
 * @since 0.1.0
 * @category backend
 */
export interface BackendReport {
  readonly chosen: BackendName;
  /** The active tfjs backend name, i.e. `tf.getBackend()`. */
  readonly tfjsName: string;
  /** The order that was tried. */
  readonly order: ReadonlyArray<BackendName>;
  /** Where `order` came from: the function argument, the `APO_BACKEND` variable, or the default. */
  readonly source: "argument" | "APO_BACKEND" | "default";
  readonly candidates: ReadonlyArray<CandidateReport>;
  /** Kernels apo-rl registered on the chosen backend because tfjs lacks them there. */
  readonly addedKernels: ReadonlyArray<string>;
}
