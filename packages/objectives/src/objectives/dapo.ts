import { decodeSync, type ObjectiveV2 } from "@apo-rl/core";
import type { Tensor } from "@tensorflow/tfjs-core";
import { Effect, Schema } from "effect";
import { configFromOptions } from "../internal/configFromOptions.js";
import { policyGradientObjective } from "../internal/policyGradientObjective.js";
import { policyGradientFields } from "../policyGradientOptions.js";

/**
 * Options of {@link dapo}: the GRPO-family fields, defaulting to clip-higher (`clipHigh 0.28`) and no
 * KL term (`beta 0`); `overlong: { maxLength, buffer }` switches on overlong reward shaping.
 *
 * @since 0.1.0
 * @category objectives
 */
export const DapoOptions = Schema.Struct({
  ...policyGradientFields,
  clipHigh: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed(0.28)),
  ),
  beta: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed(0)),
  ),
});

/**
 * @since 0.1.0
 * @category objectives
 */
export type DapoOptions = typeof DapoOptions.Type;

/**
 * DAPO: clip-higher (`eps_high > eps_low`), `token-mean` aggregation, no KL penalty, and optional
 * overlong reward shaping. Dynamic sampling happens before the loss: drop uniform groups with
 * `filterUniformGroups` and refill the batch.
 *
 * @since 0.1.0
 * @category objectives
 */
export const dapo = (options: typeof DapoOptions.Encoded = {}): ObjectiveV2<Tensor> =>
  policyGradientObjective(configFromOptions("dapo", decodeSync(DapoOptions, "dapo options")(options)));
