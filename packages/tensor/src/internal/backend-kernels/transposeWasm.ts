import * as tf from "@tensorflow/tfjs-core";
import { simdTransposeModuleBytes } from "./simdTransposeModule.js";
import type { WasmHeapBackend } from "./sliceWasm.js";
import { type WasmMemory, webAssemblyApi } from "./webAssemblyApi.js";

/** The parts of tfjs-backend-wasm 4.22's `BackendWasm` this kernel reads. */
interface WasmModuleBackend extends WasmHeapBackend {
  readonly dataIdMap?: { get(dataId: tf.DataId): { readonly memoryOffset: number } | undefined };
  readonly wasm?: {
    /** The threaded build's (shared) memory. */
    readonly wasmMemory?: unknown;
    /** The single-threaded build's exports, its memory among them. */
    readonly asm?: { readonly memory?: unknown };
  };
}

type Transpose = (source: number, target: number, rows: number, columns: number) => void;

/** One instance per heap; `null` where the module cannot run (no SIMD, another backend layout). */
const instances = new WeakMap<WasmMemory, Transpose | null>();

const memoryOf = (backend: WasmModuleBackend): WasmMemory | undefined => {
  const api = webAssemblyApi();
  const memory = backend.wasm?.wasmMemory ?? backend.wasm?.asm?.memory;
  return api !== undefined && memory instanceof api.Memory ? memory : undefined;
};

const transposerFor = (memory: WasmMemory): Transpose | null => {
  const known = instances.get(memory);
  if (known !== undefined) return known;
  let transpose: Transpose | null = null;
  try {
    const api = webAssemblyApi()!;
    const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
    // A module of a few hundred bytes: synchronous compilation is allowed on every thread.
    const module = new api.Module(simdTransposeModuleBytes(shared));
    const instance = new api.Instance(module, { env: { memory } });
    transpose = instance.exports.transpose as Transpose;
  } catch {
    transpose = null; // a runtime without wasm SIMD: tfjs's kernel stays in use
  }
  instances.set(memory, transpose);
  return transpose;
};

/** Whether the SIMD module runs on `backend`'s heap (false: tfjs's own `Transpose` does the work). */
export const simdTransposeRuns = (backend: tf.KernelBackend): boolean => {
  const memory = memoryOf(backend as unknown as WasmModuleBackend);
  return memory !== undefined && transposerFor(memory) !== null;
};

/** Below this many elements the call costs more than the copy: tfjs's kernel handles it. */
const SIMD_FROM_ELEMENTS = 1024;

/** Whether `perm` swaps the last two axes and keeps every other one. */
const swapsLastTwoAxes = (perm: ReadonlyArray<number>): boolean => {
  const rank = perm.length;
  if (rank < 2 || perm[rank - 1] !== rank - 2 || perm[rank - 2] !== rank - 1) return false;
  for (let axis = 0; axis < rank - 2; axis++) if (perm[axis] !== axis) return false;
  return true;
};

/**
 * Wraps tfjs-backend-wasm's `Transpose` (one element per loop step, ≈ 2 ns per element): a swap of
 * the last two axes of a 32-bit tensor runs in the SIMD module of `simdTransposeModule.ts` on the
 * backend's own heap, 4 × 4 blocks at a time; the edge rows and columns left over are copied here.
 * Every other permutation, dtype or small tensor keeps tfjs's kernel. The values are moved as bits,
 * so the result equals tfjs's exactly.
 */
export const simdTranspose =
  (original: tf.KernelFunc): tf.KernelFunc =>
  (args) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs as { x: tf.TensorInfo };
    const { perm } = attrs as unknown as { perm: Array<number> };
    const rank = x.shape.length;
    const size = tf.util.sizeFromShape(x.shape);
    if (
      (x.dtype !== "float32" && x.dtype !== "int32") ||
      size < SIMD_FROM_ELEMENTS ||
      !swapsLastTwoAxes(perm)
    )
      return original(args);
    const rows = x.shape[rank - 2]!;
    const columns = x.shape[rank - 1]!;
    if (rows < 4 || columns < 4) return original(args);
    const heap = backend as unknown as WasmModuleBackend;
    const memory = memoryOf(heap);
    const transpose = memory === undefined ? null : transposerFor(memory);
    const sourceOffset = heap.dataIdMap?.get(x.dataId)?.memoryOffset;
    if (transpose === null || sourceOffset === undefined || memory === undefined) return original(args);
    const out = heap.makeOutput(
      perm.map((axis) => x.shape[axis]!),
      x.dtype,
    );
    const targetOffset = heap.dataIdMap?.get(out.dataId)?.memoryOffset;
    if (targetOffset === undefined) throw new Error("Transpose on wasm: the output has no heap offset");
    const matrix = rows * columns;
    const rows4 = rows & ~3;
    const columns4 = columns & ~3;
    for (let start = 0; start < size; start += matrix) {
      transpose(sourceOffset + start * 4, targetOffset + start * 4, rows, columns);
    }
    if (rows4 === rows && columns4 === columns) return out;
    // The edges, as bits (a view after makeOutput: allocating may have grown the heap).
    const words = new Int32Array(memory.buffer);
    const source = sourceOffset / 4;
    const target = targetOffset / 4;
    for (let start = 0; start < size; start += matrix) {
      for (let row = 0; row < rows; row++) {
        const from = row < rows4 ? columns4 : 0;
        for (let column = from; column < columns; column++) {
          words[target + start + column * rows + row] = words[source + start + row * columns + column]!;
        }
      }
    }
    return out;
  };
