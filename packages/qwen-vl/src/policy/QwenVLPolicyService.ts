import { Context, Effect, Layer } from "effect";
import { Qwen25VL } from "../model/Qwen25VLService.js";
import { QwenVLProcessor } from "../processor/QwenVLProcessor.js";
import { createQwenVLPolicy, type QwenVLPolicy } from "./createQwenVLPolicy.js";
import type { QwenVLPolicyOptions } from "./QwenVLPolicyOptions.js";

/**
 * A Qwen2.5-VL policy as an Effect service, built from the {@link Qwen25VL} model and
 * {@link QwenVLProcessor} services; the adapters it creates are released when its scope closes.
 *
 * @example
 * ```ts
 * const policyLayer = QwenVLPolicyService.layer({ lora: { rank: 8, alpha: 16 } }).pipe(
 *   Layer.provide(Qwen25VL.layer(dir)),
 *   Layer.provide(QwenVLProcessor.layer(dir)),
 * )
 * const program = Effect.gen(function* () {
 *   const policy = yield* QwenVLPolicyService
 *   return yield* Effect.promise(() => policy.generate(requests, { n: 4, temperature: 1, maxNewTokens: 64, seed: 0 }))
 * })
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class QwenVLPolicyService extends Context.Service<QwenVLPolicyService, QwenVLPolicy>()(
  "@apo-rl/qwen-vl/QwenVLPolicy",
) {
  /** Create the policy from the model and processor services, in a scope that disposes its adapters. */
  static readonly make = (options: Omit<QwenVLPolicyOptions, "model" | "processor"> = {}) =>
    Effect.gen(function* () {
      const model = yield* Qwen25VL;
      const { processor } = yield* QwenVLProcessor;
      return yield* Effect.acquireRelease(
        Effect.sync(() => createQwenVLPolicy({ ...options, model, processor })),
        (policy) => Effect.sync(() => policy.dispose()),
      );
    });

  /** A layer holding the policy; needs the {@link Qwen25VL} and {@link QwenVLProcessor} services. */
  static readonly layer = (options: Omit<QwenVLPolicyOptions, "model" | "processor"> = {}) =>
    Layer.effect(QwenVLPolicyService, QwenVLPolicyService.make(options));
}
