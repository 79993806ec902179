import { decodeSync } from "@apo-rl/core";
import { Schema } from "effect";

const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0));
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));

/**
 * Sampling options as decoded (the core `GenerationOptions`): `n ≥ 1`, `temperature ≥ 0` (0 is
 * greedy), `topP ∈ (0, 1]`, `topK ≥ 0` (0 keeps all), `maxNewTokens ≥ 0`, an integer `seed`,
 * the optional `retainForTraining` hint.
 *
 * @since 0.1.0
 * @category generation
 */
export const SamplingOptions = Schema.Struct({
  n: PositiveInt,
  temperature: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)),
  topP: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(0)).check(Schema.isLessThanOrEqualTo(1))),
  topK: Schema.optionalKey(NonNegativeInt),
  maxNewTokens: NonNegativeInt,
  stopStrings: Schema.optionalKey(Schema.Array(Schema.String.check(Schema.isNonEmpty()))),
  seed: Schema.Int,
  retainForTraining: Schema.optionalKey(Schema.Boolean),
});

/**
 * @since 0.1.0
 * @category generation
 */
export type SamplingOptions = typeof SamplingOptions.Type;

/**
 * Decode sampling options; a bad value throws core's `InvalidInputError` naming the field.
 *
 * @since 0.1.0
 * @category generation
 */
export const decodeSamplingOptions: (input: unknown) => SamplingOptions = decodeSync(
  SamplingOptions,
  "generation options",
);
