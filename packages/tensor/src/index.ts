// Every export of ./portable.js (no Node built-ins), plus what needs Node.
export type { BackendPreference } from "./backend/initBackend.js";
export { initBackend } from "./backend/initBackend.js";
export type { TensorBackendShape } from "./backend/TensorBackend.js";
export { TensorBackend } from "./backend/TensorBackend.js";
export { testBackends } from "./backend/testBackends.js";
export type { StartedWasmThreads, WasmThreadPlan } from "./backend/wasmThreads.js";
export { configureWasmThreads, wasmThreads } from "./backend/wasmThreads.js";
export { doctor, formatDoctorReport } from "./doctor.js";
export * from "./portable.js";
