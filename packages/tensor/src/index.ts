export type { ActivatedBackend, PortableBackendName, WebGpuHost } from "./backend/activateBackend.js";
export { activateBackend, registerWebGpuBackend } from "./backend/activateBackend.js";
export type { BackendName } from "./backend/BackendName.js";
export { BACKEND_NAMES, isBackendName } from "./backend/BackendName.js";
export type { BackendReport, CandidateReport, CandidateStatus } from "./backend/BackendReport.js";
export { BackendUnavailableError, UnknownBackendError } from "./backend/errors.js";
export type { BackendPreference } from "./backend/initBackend.js";
export { initBackend } from "./backend/initBackend.js";
export { readHostValues } from "./backend/readHostValues.js";
export type { TensorBackendShape } from "./backend/TensorBackend.js";
export { TensorBackend } from "./backend/TensorBackend.js";
export { testBackends } from "./backend/testBackends.js";
export { toleranceScale } from "./backend/tolerances.js";
export { doctor, formatDoctorReport } from "./doctor.js";
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
