import { Context, Effect, Layer } from "effect";
import type { BackendReport } from "./BackendReport.js";
import { BackendUnavailableError, InvalidWasmThreadsError, UnknownBackendError } from "./errors.js";
import { type BackendPreference, initBackend } from "./initBackend.js";

/**
 * What the {@link TensorBackend} service holds: the selection report, and a way to switch backend.
 *
 * @since 0.1.0
 * @category service
 */
export interface TensorBackendShape {
  /** The report of the selection this layer made. */
  readonly report: BackendReport;
  /** Switches the process to another backend (as {@link initBackend}) and reports it. */
  readonly select: (
    preference?: BackendPreference,
  ) => Effect.Effect<BackendReport, BackendUnavailableError | UnknownBackendError | InvalidWasmThreadsError>;
}

const selectEffect = (
  preference: BackendPreference | undefined,
): Effect.Effect<BackendReport, BackendUnavailableError | UnknownBackendError | InvalidWasmThreadsError> =>
  Effect.tryPromise({
    try: () => initBackend(preference),
    catch: (error) =>
      error instanceof BackendUnavailableError ||
      error instanceof UnknownBackendError ||
      error instanceof InvalidWasmThreadsError
        ? error
        : new BackendUnavailableError({
            requested:
              preference === undefined ? [] : typeof preference === "string" ? [preference] : [...preference],
            reason: error instanceof Error ? error.message : String(error),
          }),
  });

const make = (
  preference?: BackendPreference,
): Effect.Effect<
  TensorBackendShape,
  BackendUnavailableError | UnknownBackendError | InvalidWasmThreadsError
> => Effect.map(selectEffect(preference), (report) => ({ report, select: selectEffect }));

/**
 * The TensorFlow.js backend as an Effect service: building the layer selects and activates the
 * backend ({@link initBackend}: preference, else `APO_BACKEND`, else the default order), registers
 * the gradients and the missing kernels, and fails with a typed error when nothing is usable.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function* () {
 *   const backend = yield* TensorBackend
 *   console.log(backend.report.chosen)
 * })
 * Effect.runPromise(Effect.provide(program, TensorBackend.layer("wasm")))
 * ```
 *
 * @since 0.1.0
 * @category service
 */
export class TensorBackend extends Context.Service<TensorBackend, TensorBackendShape>()(
  "@apo-rl/tensor/TensorBackend",
) {
  /** Selects the backend and builds the service. */
  static readonly make = make;
  /** A layer that selects the backend when it is built. */
  static readonly layer = (
    preference?: BackendPreference,
  ): Layer.Layer<TensorBackend, BackendUnavailableError | UnknownBackendError | InvalidWasmThreadsError> =>
    Layer.effect(TensorBackend, make(preference));
}
