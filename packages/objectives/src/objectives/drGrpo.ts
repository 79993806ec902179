import { decodeSync, type ObjectiveV2 } from "@apo-rl/core";
import type { Tensor } from "@tensorflow/tfjs-core";
import { Effect, Schema } from "effect";
import { configFromOptions } from "../internal/configFromOptions.js";
import { policyGradientObjective } from "../internal/policyGradientObjective.js";
import { Aggregation, policyGradientFields } from "../policyGradientOptions.js";

/**
 * Options of {@link drGrpo}: the GRPO-family fields, defaulting to `advantageScale "none"` and
 * `aggregation "seq-mean-token-sum-norm"`.
 *
 * @since 0.1.0
 * @category objectives
 */
export const DrGrpoOptions = Schema.Struct({
  ...policyGradientFields,
  advantageScale: Schema.Literals(["group", "batch", "none"]).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed("none" as const)),
  ),
  aggregation: Aggregation.pipe(
    Schema.withDecodingDefaultKey(Effect.succeed("seq-mean-token-sum-norm" as const)),
  ),
});

/**
 * @since 0.1.0
 * @category objectives
 */
export type DrGrpoOptions = typeof DrGrpoOptions.Type;

/**
 * Dr.GRPO ("GRPO done right"): advantages are centred rewards (no division by the group standard
 * deviation) and token losses are summed per sequence and divided by a constant
 * (`sequences × maxLength`), removing GRPO's length and difficulty biases.
 *
 * @since 0.1.0
 * @category objectives
 */
export const drGrpo = (options: typeof DrGrpoOptions.Encoded = {}): ObjectiveV2<Tensor> =>
  policyGradientObjective(configFromOptions("drGrpo", decodeSync(DrGrpoOptions, "drGrpo options")(options)));
