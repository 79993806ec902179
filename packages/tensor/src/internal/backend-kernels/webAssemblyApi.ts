/**
 * The part of the WebAssembly JavaScript API the SIMD kernels use. The packages compile without
 * the DOM library, which is where TypeScript declares `WebAssembly`; every runtime tfjs-backend-wasm
 * runs on has it.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

export interface WebAssemblyApi {
  readonly Memory: new (descriptor: {
    readonly initial: number;
    readonly maximum?: number;
    readonly shared?: boolean;
  }) => WasmMemory;
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (
    module: object,
    imports: Readonly<Record<string, Readonly<Record<string, unknown>>>>,
  ) => { readonly exports: Readonly<Record<string, unknown>> };
  validate(bytes: Uint8Array): boolean;
}

/** `globalThis.WebAssembly`, or `undefined` on a runtime without it. */
export const webAssemblyApi = (): WebAssemblyApi | undefined =>
  (globalThis as unknown as { WebAssembly?: WebAssemblyApi }).WebAssembly;
