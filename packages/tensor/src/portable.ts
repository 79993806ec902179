/**
 * The portable part of @apo-rl/tensor: the RL tensor ops, the kernel registry and backend
 * activation for hosts without Node (a browser page, a Web Worker). It imports no Node built-in;
 * `scripts/check-architecture.mjs` enforces that. Backend selection with probing (`initBackend`,
 * `doctor`) stays in the main entry point, which is Node-only.
 *
 * @since 0.2.0
 */
export type { ActivatedBackend, PortableBackendName, WebGpuHost } from "./backend/activateBackend.js";
export { activateBackend, registerWebGpuBackend } from "./backend/activateBackend.js";
export type { BackendName } from "./backend/BackendName.js";
export { BACKEND_NAMES, isBackendName } from "./backend/BackendName.js";
export type { BackendReport, CandidateReport, CandidateStatus } from "./backend/BackendReport.js";
export { BackendUnavailableError, InvalidWasmThreadsError, UnknownBackendError } from "./backend/errors.js";
export { readHostValues } from "./backend/readHostValues.js";
export { toleranceScale } from "./backend/tolerances.js";
export type { KernelMode } from "./kernels/fastKernels.js";
export {
  defineKernelOp,
  fastKernelFor,
  kernelMode,
  registerFastKernel,
  setKernelMode,
  withReferenceKernels,
} from "./kernels/fastKernels.js";
export type { HeapMeter } from "./memory/heapMeter.js";
export { startHeapMeter, wasmHeapBytes } from "./memory/heapMeter.js";
export type { ClippedSurrogateOptions, ClippedSurrogateResult } from "./ops/clippedSurrogate.js";
export { clippedSurrogate } from "./ops/clippedSurrogate.js";
export type { EntropyFromLogitsOptions } from "./ops/entropyFromLogits.js";
export { entropyFromLogits } from "./ops/entropyFromLogits.js";
export type { GroupNormalizeOptions, GroupScale } from "./ops/groupNormalize.js";
export { groupNormalize } from "./ops/groupNormalize.js";
export type { KlEstimator } from "./ops/klEstimate.js";
export { KL_ESTIMATORS, klEstimate } from "./ops/klEstimate.js";
export type {
  LinearTokenLogprobsOptions,
  LinearTokenLogprobsWithEntropy,
} from "./ops/linearTokenLogprobs.js";
export { linearTokenLogprobs } from "./ops/linearTokenLogprobs.js";
export type { AggregationMode, MaskedAggregateOptions } from "./ops/maskedAggregate.js";
export { AGGREGATION_MODES, maskedAggregate } from "./ops/maskedAggregate.js";
export type { TokenLogprobsOptions } from "./ops/tokenLogprobs.js";
export { tokenLogprobs } from "./ops/tokenLogprobs.js";
