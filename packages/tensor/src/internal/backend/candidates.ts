import * as tf from "@tensorflow/tfjs-core";
import type { BackendName } from "../../backend/BackendName.js";
import { exportOf, firstLine, importOptional, packageDirectory } from "./packages.js";
import { planWasmThreads, recordWasmThreads, startThreadedWasm } from "./wasmThreads.js";
import { prepareWebGpu } from "./webgpu.js";

/** How to load one backend: its packages, what it needs when missing, and how to register it. */
export interface Candidate {
  readonly name: BackendName;
  readonly tfjsName: string;
  readonly packages: ReadonlyArray<string>;
  /** Appended to "not installed" so the user knows what the package needs. */
  readonly requirement: string;
  /**
   * Imports the packages and registers the tfjs backend. Resolves to a detail (and, for a software
   * adapter, why the default order passes it over), rejects with a reason.
   */
  readonly prepare: () => Promise<string | { readonly detail: string; readonly software?: string }>;
  /** Runs once after tfjs initialised the backend. */
  readonly settle?: (backend: tf.KernelBackend) => void;
}

const prepareNative = (packageName: string) => async (): Promise<string> => {
  await importOptional(packageName);
  if (tf.findBackendFactory("tensorflow") == null)
    throw new Error(`${packageName} loaded but registered no "tensorflow" backend`);
  return `native TensorFlow through ${packageName}`;
};

const prepareWasm = async (): Promise<string> => {
  const module = await importOptional("@tensorflow/tfjs-backend-wasm");
  const directory = packageDirectory("@tensorflow/tfjs-backend-wasm");
  const setWasmPaths = exportOf(module, "setWasmPaths");
  if (directory === undefined || typeof setWasmPaths !== "function")
    throw new Error("@tensorflow/tfjs-backend-wasm has no setWasmPaths or cannot be located");
  // In Node the emscripten loader reads the .wasm binaries from disk: point it at the package's dist.
  (setWasmPaths as (prefix: string) => void)(`${directory}/dist/`);
  const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
  const plan = planWasmThreads();
  let threads = 1;
  let note: string | undefined;
  if (plan.threads > 1 && !simd) note = "tfjs ships its threaded build with SIMD only";
  else if (plan.threads > 1) {
    try {
      threads = await startThreadedWasm(module, directory, plan.threads);
      if (threads < plan.threads) note = `the threaded build started ${threads} of ${plan.threads} threads`;
    } catch (error) {
      note = `the threaded build did not start (${firstLine(error)})`;
    }
  }
  recordWasmThreads(note === undefined ? { threads, plan } : { threads, plan, note });
  const count = threads === 1 ? "one thread" : `${threads} threads`;
  const why = note !== undefined ? `: ${note}` : plan.source === "default" ? "" : ` (${plan.source})`;
  return `WebAssembly${simd ? " with SIMD" : ""}, ${count}${why}, heap ≤ 4 GB`;
};

const prepareCpu = async (): Promise<string> => {
  await importOptional("@tensorflow/tfjs-backend-cpu");
  return "plain JavaScript kernels";
};

/** Every backend apo-rl can select, in the default order. */
export const CANDIDATES: ReadonlyArray<Candidate> = [
  {
    name: "tfjs-node-gpu",
    tfjsName: "tensorflow",
    packages: ["@tensorflow/tfjs-node-gpu"],
    requirement:
      "needs Linux x64, an NVIDIA GPU with CUDA 11.2 + cuDNN 8.1 (npm i @tensorflow/tfjs-node-gpu)",
    prepare: prepareNative("@tensorflow/tfjs-node-gpu"),
  },
  {
    name: "tfjs-node",
    tfjsName: "tensorflow",
    packages: ["@tensorflow/tfjs-node"],
    requirement: "needs its install script to download libtensorflow (npm i @tensorflow/tfjs-node)",
    prepare: prepareNative("@tensorflow/tfjs-node"),
  },
  {
    name: "webgpu",
    tfjsName: "webgpu",
    packages: ["webgpu", "@tensorflow/tfjs-backend-webgpu"],
    requirement:
      "needs a GPU with a Vulkan (Linux), Metal or D3D12 driver (npm i webgpu @tensorflow/tfjs-backend-webgpu)",
    prepare: prepareWebGpu,
  },
  {
    name: "wasm",
    tfjsName: "wasm",
    packages: ["@tensorflow/tfjs-backend-wasm"],
    requirement: "a dependency of @apo-rl/tensor; reinstall it",
    prepare: prepareWasm,
  },
  {
    name: "cpu",
    tfjsName: "cpu",
    packages: ["@tensorflow/tfjs-backend-cpu"],
    requirement: "a dependency of @apo-rl/tensor; reinstall it",
    prepare: prepareCpu,
    // The cpu backend prints a "install tfjs-node" banner on first use in Node; the backend report
    // already says why each faster backend is not used.
    settle: (backend) => {
      (backend as unknown as { firstUse: boolean }).firstUse = false;
    },
  },
];

/** The candidate of a backend name. */
export const candidateOf = (name: BackendName): Candidate => {
  const candidate = CANDIDATES.find((entry) => entry.name === name);
  if (candidate === undefined) throw new Error(`no candidate for backend ${name}`);
  return candidate;
};
