import { Context, Effect, Layer } from "effect";
import { type LoadQwen25VLOptions, loadQwen25VLEffect, type Qwen25VLLoadError } from "./loadQwen25VL.js";
import type { Qwen25VLModel } from "./Qwen25VLModel.js";

/**
 * A loaded Qwen2.5-VL as an Effect service. The layer loads the checkpoint when built and
 * disposes every weight when its scope closes.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function* () {
 *   const model = yield* Qwen25VL
 *   const output = model.forward({ inputIds: [[1, 2, 3]] }, { logits: "last" })
 *   // ...
 * })
 * await Effect.runPromise(Effect.provide(program, Qwen25VL.layer("./Qwen2.5-VL-3B-Instruct")))
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class Qwen25VL extends Context.Service<Qwen25VL, Qwen25VLModel>()("@apo-rl/qwen-vl/Qwen25VL") {
  /** Load the model in a scope that disposes it on close. */
  static readonly make = (directory: string, options: LoadQwen25VLOptions = {}) =>
    Effect.acquireRelease(loadQwen25VLEffect(directory, options), (model) =>
      Effect.sync(() => model.dispose()),
    );

  /** A layer holding the model of `directory`, loaded once. */
  static readonly layer = (
    directory: string,
    options: LoadQwen25VLOptions = {},
  ): Layer.Layer<Qwen25VL, Qwen25VLLoadError> => Layer.effect(Qwen25VL, Qwen25VL.make(directory, options));
}
