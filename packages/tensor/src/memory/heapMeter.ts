import * as tf from "@tensorflow/tfjs-core";

/**
 * A running measurement of the bytes a backend holds for tensor data, from {@link startHeapMeter}.
 *
 * @since 0.2.0
 * @category memory
 */
export interface HeapMeter {
  /** Bytes allocated since the meter started, net of those freed again. */
  readonly currentBytes: () => number;
  /** The most of {@link HeapMeter.currentBytes} at any moment since the start or the last {@link HeapMeter.reset}. */
  readonly peakBytes: () => number;
  /** Restart the high-water mark from the bytes held now. */
  readonly reset: () => void;
  /** Stop measuring (restores the wasm allocator). */
  readonly stop: () => void;
}

/** The part of tfjs-backend-wasm's Emscripten module a meter wraps. */
interface WasmModule {
  _malloc: (bytes: number) => number;
  _free: (pointer: number) => void;
  readonly HEAPU8: Uint8Array;
}

const wasmModule = (): WasmModule | undefined => {
  if (tf.getBackend() !== "wasm") return undefined;
  const module = (tf.backend() as unknown as { wasm?: WasmModule }).wasm;
  return module !== undefined && typeof module._malloc === "function" ? module : undefined;
};

/**
 * The wasm heap's size in bytes (its linear memory, which only grows: the process' high-water
 * mark), or `undefined` off wasm.
 *
 * @since 0.2.0
 * @category memory
 */
export const wasmHeapBytes = (): number | undefined => wasmModule()?.HEAPU8.buffer.byteLength;

/** Watch the wasm allocator: every `malloc`/`free` of the backend, so shared buffers count once. */
const allocatorMeter = (module: WasmModule): HeapMeter => {
  // Emscripten binds `_malloc`/`_free` lazily: their first call replaces them by the wasm exports
  // (which would drop a wrapper). Bind them now.
  module._free(module._malloc(8));
  const malloc = module._malloc;
  const free = module._free;
  const sizes = new Map<number, number>();
  let current = 0;
  let peak = 0;
  module._malloc = (bytes: number) => {
    const pointer = malloc(bytes);
    sizes.set(pointer >>> 0, bytes);
    current += bytes;
    if (current > peak) peak = current;
    return pointer;
  };
  module._free = (pointer: number) => {
    const bytes = sizes.get(pointer >>> 0);
    if (bytes !== undefined) {
      current -= bytes;
      sizes.delete(pointer >>> 0);
    }
    free(pointer);
  };
  return {
    currentBytes: () => current,
    peakBytes: () => peak,
    reset: () => {
      peak = current;
    },
    stop: () => {
      module._malloc = malloc;
      module._free = free;
    },
  };
};

/**
 * Start measuring the bytes the wasm backend allocates for tensor data, and their high-water mark:
 * it wraps the backend's allocator, so the peak is exact (what the 4 GiB heap must hold on top of
 * what it held at the start, a buffer shared by several tensors counted once — unlike
 * `tf.memory().numBytes`, which counts it per tensor). `undefined` off wasm. Call `stop()` when done;
 * meters may nest.
 *
 * @since 0.2.0
 * @category memory
 */
export const startHeapMeter = (): HeapMeter | undefined => {
  const module = wasmModule();
  return module === undefined ? undefined : allocatorMeter(module);
};
