import { Effect, Schema } from "effect";
import { KlScheduleOptions } from "./klSchedule.js";
import { RolloutCorrectionOptions } from "./rolloutCorrection.js";

const withDefault =
  <A>(value: A) =>
  <S extends Schema.Top & { readonly Encoded: A }>(schema: S) =>
    schema.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)));

const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0));
const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0));

/**
 * How per-token losses become one number. `token-mean`: sum over every response token / their
 * count; `seq-mean-token-mean`: mean over each sequence's tokens, then over sequences;
 * `seq-mean-token-sum`: sum over each sequence's tokens, mean over sequences;
 * `seq-mean-token-sum-norm` (Dr.GRPO): sum over tokens / (sequences × `maxLength`).
 *
 * @since 0.1.0
 * @category options
 */
export const Aggregation = Schema.Literals([
  "token-mean",
  "seq-mean-token-mean",
  "seq-mean-token-sum",
  "seq-mean-token-sum-norm",
]);

/**
 * @since 0.1.0
 * @category options
 */
export type Aggregation = typeof Aggregation.Type;

/**
 * Per-token estimator of KL(π ‖ π_ref), with `d = logp_ref − logp`: `k1 = −d`, `k2 = d²/2`,
 * `k3 = exp(d) − d − 1`, `low-var-kl` = `k3` clamped to `[−10, 10]`.
 *
 * @since 0.1.0
 * @category options
 */
export const KlEstimator = Schema.Literals(["k1", "k2", "k3", "low-var-kl"]);

/**
 * @since 0.1.0
 * @category options
 */
export type KlEstimator = typeof KlEstimator.Type;

/**
 * Where the KL penalty enters: the `loss` (`β · mean(w · kl)`, the reference) or the `reward`
 * (`r_t −= β · w · k1_t`, folded into a per-token return-to-go advantage).
 *
 * @since 0.1.0
 * @category options
 */
export const KlPlacement = Schema.Literals(["loss", "reward"]);

/**
 * @since 0.1.0
 * @category options
 */
export type KlPlacement = typeof KlPlacement.Type;

/**
 * DAPO overlong reward shaping: `maxLength` (`Lmax`) and `buffer` (`Lb`, at most `maxLength`).
 *
 * @since 0.1.0
 * @category options
 */
export const OverlongOptions = Schema.Struct({ maxLength: PositiveInt, buffer: PositiveInt }).check(
  Schema.makeFilter((options) =>
    options.buffer <= options.maxLength
      ? undefined
      : { path: ["buffer"], issue: `Expected buffer ≤ maxLength (${options.maxLength})` },
  ),
);

/**
 * A registered component and its options: `{ name, options }` (options decoded by the component).
 *
 * @since 0.2.0
 * @category options
 */
export const ComponentChoice = Schema.Struct({
  name: Schema.String.check(Schema.isNonEmpty()),
  options: Schema.Record(Schema.String, Schema.Unknown).pipe(withDefault<Record<string, unknown>>({})),
});

/**
 * The option fields every clipped-surrogate objective of the GRPO family accepts, with the
 * reference defaults: `advantageScale "group"`, `eps 1e-9`, `clipLow 0.2`, `clipHigh 0.2`, no dual
 * clip, `aggregation "token-mean"`, `klEstimator "k3"`, `klPlacement "loss"`, `beta 1e-3`, no KL
 * schedule, no overlong shaping. `maxLength` is the constant of `seq-mean-token-sum-norm` (default:
 * the padded width `T` of the batch). `klSchedule`, when given, replaces `beta`. `rolloutCorrection`
 * (absent: none) corrects rollouts sampled by another policy (see `RolloutCorrectionOptions`).
 *
 * Composition: `advantageEstimator` (`{ name, options }` from `advantageEstimatorRegistry`; default
 * the `grpo` estimator with `advantageScale` and `eps`) and `policyLoss` (from `policyLossRegistry`;
 * default `ppoClip` with `clipLow`, `clipHigh`, `dualClip`) replace the defaults. `entropyCoefficient`
 * (default 0) adds the entropy bonus `−c · aggregate(entropy)`; `topEntropyFraction` (default 1 = off)
 * gives policy-loss gradient only to that fraction of the micro-batch's response tokens with the
 * highest entropy. Both need a policy that reports per-token entropy.
 *
 * @since 0.1.0
 * @category options
 */
export const policyGradientFields = {
  advantageScale: Schema.Literals(["group", "batch", "none"]).pipe(
    withDefault<"group" | "batch" | "none">("group"),
  ),
  eps: NonNegative.pipe(withDefault(1e-9)),
  clipLow: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMaximum: true })).pipe(
    withDefault(0.2),
  ),
  clipHigh: NonNegative.pipe(withDefault(0.2)),
  dualClip: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(1))),
  aggregation: Aggregation.pipe(withDefault<Aggregation>("token-mean")),
  maxLength: Schema.optionalKey(PositiveInt),
  klEstimator: KlEstimator.pipe(withDefault<KlEstimator>("k3")),
  klPlacement: KlPlacement.pipe(withDefault<KlPlacement>("loss")),
  beta: NonNegative.pipe(withDefault(1e-3)),
  klSchedule: Schema.optionalKey(KlScheduleOptions),
  overlong: Schema.optionalKey(OverlongOptions),
  advantageEstimator: Schema.optionalKey(ComponentChoice),
  policyLoss: Schema.optionalKey(ComponentChoice),
  entropyCoefficient: NonNegative.pipe(withDefault(0)),
  topEntropyFraction: Schema.Finite.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(1)).pipe(
    withDefault(1),
  ),
  rolloutCorrection: Schema.optionalKey(RolloutCorrectionOptions),
} as const;

/**
 * The options of the plain clipped-surrogate objectives (`grpo`).
 *
 * @since 0.1.0
 * @category options
 */
export const PolicyGradientOptions = Schema.Struct(policyGradientFields);

/**
 * @since 0.1.0
 * @category options
 */
export type PolicyGradientOptions = typeof PolicyGradientOptions.Type;

/**
 * The fields APO adds: `dads` (default on), `dadsForm` (default `"reference"`), `stcr` (default on),
 * `stcrBase` (default `1.00001`, must exceed 1).
 *
 * @since 0.1.0
 * @category options
 */
export const apoFields = {
  dads: Schema.Boolean.pipe(withDefault(true)),
  dadsForm: Schema.Literals(["reference", "exp-decay"]).pipe(
    withDefault<"reference" | "exp-decay">("reference"),
  ),
  stcr: Schema.Boolean.pipe(withDefault(true)),
  stcrBase: Schema.Finite.check(Schema.isGreaterThan(1)).pipe(withDefault(1.00001)),
} as const;
