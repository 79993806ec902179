import * as tf from "@tensorflow/tfjs-core";
import {
  candidateInstalled,
  currentTfjsBackend,
  type Outcome,
  probe,
  serialised,
} from "../internal/backend/activation.js";
import { CANDIDATES, candidateOf } from "../internal/backend/candidates.js";
import { planWasmThreads } from "../internal/backend/wasmThreads.js";
import { BACKEND_NAMES, type BackendName, isBackendName } from "./BackendName.js";
import type { BackendReport, CandidateReport } from "./BackendReport.js";
import { BackendUnavailableError, UnknownBackendError } from "./errors.js";

/**
 * A backend preference: one backend, or an ordered list to try.
 *
 * @since 0.1.0
 * @category backend
 */
export type BackendPreference = BackendName | ReadonlyArray<BackendName>;

const parseList = (value: string, source: "argument" | "APO_BACKEND"): ReadonlyArray<BackendName> => {
  const names = value
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  if (names.length === 0)
    throw new UnknownBackendError({
      backend: value,
      source,
      reason: `expected one of ${BACKEND_NAMES.join(", ")}`,
    });
  return names.map((name) => {
    if (!isBackendName(name))
      throw new UnknownBackendError({
        backend: name,
        source,
        reason: `expected one of ${BACKEND_NAMES.join(", ")}`,
      });
    return name;
  });
};

/** The order to try: the argument, else `APO_BACKEND` (comma-separated), else the default order. */
export const resolveOrder = (
  preference: BackendPreference | undefined,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): Pick<BackendReport, "order" | "source"> => {
  if (preference !== undefined) {
    const list: ReadonlyArray<string> = typeof preference === "string" ? [preference] : preference;
    return { order: parseList(list.join(","), "argument"), source: "argument" };
  }
  const variable = environment.APO_BACKEND;
  if (variable !== undefined && variable.trim() !== "")
    return { order: parseList(variable, "APO_BACKEND"), source: "APO_BACKEND" };
  return { order: BACKEND_NAMES, source: "default" };
};

const describeCandidate = (
  name: BackendName,
  outcome: Outcome | undefined,
  chosen: BackendName,
  order: ReadonlyArray<BackendName>,
): CandidateReport => {
  const candidate = candidateOf(name);
  const base = { name, tfjsName: candidate.tfjsName, packages: candidate.packages };
  if (outcome === undefined) {
    const reason = order.includes(name)
      ? `not tried: ${chosen} comes first in the order`
      : `not in the requested order (${order.join(", ")})`;
    return { ...base, installed: candidateInstalled(name), status: "skipped", usable: false, reason };
  }
  if (!outcome.usable)
    return {
      ...base,
      installed: outcome.installed,
      status: "unavailable",
      usable: false,
      reason: outcome.reason,
    };
  return {
    ...base,
    installed: true,
    status: name === chosen ? "chosen" : "usable",
    usable: true,
    reason: outcome.detail,
  };
};

const select = async (preference: BackendPreference | undefined): Promise<BackendReport> => {
  const { order, source } = resolveOrder(preference);
  // A wrong APO_WASM_THREADS fails loudly here rather than as "wasm unavailable" (and a cpu fallback).
  if (order.includes("wasm")) planWasmThreads();
  const tried = new Map<BackendName, Outcome>();
  for (const name of order) {
    const probed = await probe(name);
    // A software WebGPU adapter (lavapipe) is slower than wasm: only used when asked for.
    const outcome: Outcome =
      probed.usable && probed.software !== undefined && source === "default"
        ? {
            usable: false,
            installed: true,
            reason: `${probed.detail}: ${probed.software}, slower than wasm; ask for it with APO_BACKEND=webgpu`,
          }
        : probed;
    tried.set(name, outcome);
    if (!outcome.usable) continue;
    const candidate = candidateOf(name);
    if (currentTfjsBackend() !== candidate.tfjsName) await tf.setBackend(candidate.tfjsName);
    return {
      chosen: name,
      tfjsName: candidate.tfjsName,
      order,
      source,
      candidates: CANDIDATES.map((entry) =>
        describeCandidate(entry.name, tried.get(entry.name), name, order),
      ),
      addedKernels: outcome.addedKernels,
    };
  }
  const reason = order
    .map((name) => {
      const outcome = tried.get(name);
      return `${name}: ${outcome !== undefined && !outcome.usable ? outcome.reason : "not tried"}`;
    })
    .join("; ");
  throw new BackendUnavailableError({ requested: [...order], reason });
};

/**
 * Selects and activates a TensorFlow.js backend, registers every tfjs gradient, and adds the kernels
 * the chosen backend lacks (on wasm: `UnsortedSegmentSum`, `Einsum`).
 *
 * Without a preference the order is `APO_BACKEND` (a comma-separated list) or the default
 * `tfjs-node-gpu → tfjs-node → webgpu → wasm → cpu`. Each optional package is imported on demand;
 * a missing or broken one is skipped with its reason in the report. Calling it again (with another
 * preference) switches the active backend; each backend is initialised once per process.
 *
 * @example
 * ```ts
 * import { initBackend } from "@apo-rl/tensor"
 * const report = await initBackend() // or initBackend("cpu"), initBackend(["webgpu", "wasm"])
 * console.log(report.chosen, report.candidates.map((c) => `${c.name}: ${c.reason}`))
 * ```
 *
 * On wasm it runs one thread unless `APO_WASM_THREADS` (`auto` or 1–8) or
 * {@link configureWasmThreads} asks for more; the report's wasm reason says how many, and
 * {@link wasmThreads} reads it back.
 *
 * @throws {UnknownBackendError} a name in the preference or `APO_BACKEND` is not a backend.
 * @throws {InvalidWasmThreadsError} `APO_WASM_THREADS` is not `auto` or 1–8.
 * @throws {BackendUnavailableError} no backend in the order could be initialised.
 * @since 0.1.0
 * @category backend
 */
export const initBackend = (preference?: BackendPreference): Promise<BackendReport> =>
  serialised(() => select(preference));
