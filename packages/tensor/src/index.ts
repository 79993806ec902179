export type { BackendName } from "./backend/BackendName.js";
export { BACKEND_NAMES, isBackendName } from "./backend/BackendName.js";
export type { BackendReport, CandidateReport, CandidateStatus } from "./backend/BackendReport.js";
export { BackendUnavailableError, UnknownBackendError } from "./backend/errors.js";
export type { BackendPreference } from "./backend/initBackend.js";
export { initBackend } from "./backend/initBackend.js";
export { testBackends } from "./backend/testBackends.js";
