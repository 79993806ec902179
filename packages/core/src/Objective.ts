/**
 * What an objective receives for one micro-batch of `S = prompts × groupSize` sequences padded to
 * `T` tokens. `Tensor` is the tensor type of the backend (tfjs `Tensor` in apo-rl).
 *
 * @since 0.1.0
 * @category objectives
 */
export interface ObjectiveInput<Tensor> {
  /** `[S, T]` per-token log-probs of the sampled tokens under the current policy (differentiable). */
  readonly logp: Tensor;
  /** `[S, T]` log-probs under the policy that generated the rollouts. */
  readonly logpOld: Tensor;
  /** `[S, T]` log-probs under the frozen reference policy, when a KL term is used. */
  readonly logpRef?: Tensor;
  /** `[S, T]` 1 for response tokens, 0 for padding. */
  readonly mask: Tensor;
  /** `[S]` scalar reward per sequence. */
  readonly rewards: ReadonlyArray<number>;
  /** `[S]` accuracy verdict per sequence. */
  readonly correct: ReadonlyArray<boolean>;
  /** `[S]` response lengths in tokens; defaults to the row sums of `mask`. */
  readonly lengths?: ReadonlyArray<number>;
  /** Responses per prompt; consecutive rows of size `groupSize` form one group. */
  readonly groupSize: number;
}

/**
 * Where training stands, for schedules.
 *
 * @since 0.1.0
 * @category objectives
 */
export interface ObjectiveContext {
  readonly step: number;
  readonly totalSteps: number;
}

/**
 * A scalar loss to minimise and the objective's metrics (the names in `metricNames`).
 *
 * @since 0.1.0
 * @category objectives
 */
export interface ObjectiveOutput<Tensor> {
  readonly loss: Tensor;
  /** Metrics known on the host when `loss` returns. */
  readonly metrics: Readonly<Record<string, number>>;
  /**
   * Metrics computed on the device (e.g. the policy loss, the clip fraction), read back without a
   * blocking read: a GPU backend has none. Resolves to values that override `metrics`' entries of
   * the same name. The objective owns the tensors behind it and releases them once read.
   */
  readonly deviceMetrics?: Promise<Readonly<Record<string, number>>>;
}

/**
 * Version 1 of the objective contract. An objective is a value; the trainer differentiates `loss`
 * with respect to the policy's parameters through `input.logp`.
 *
 * @since 0.1.0
 * @category objectives
 */
export interface ObjectiveV1<Tensor = unknown> {
  readonly specificationVersion: "v1";
  readonly name: string;
  readonly metricNames: ReadonlyArray<string>;
  loss(input: ObjectiveInput<Tensor>, context: ObjectiveContext): ObjectiveOutput<Tensor>;
  /**
   * Whether `loss` needs `logpRef` at this point of training. A trainer skips the reference
   * policy's forward pass when this returns `false`; when the method is absent, assume `true`.
   */
  usesReference?(context: ObjectiveContext): boolean;
}

/**
 * The per-sample facts of a whole training step, before any split into micro-batches: one entry
 * per sequence, `S = prompts × groupSize` in all, consecutive runs of `groupSize` forming a group.
 *
 * @since 0.2.0
 * @category objectives
 */
export interface SampleBatch {
  /** `[S]` scalar reward per sequence. */
  readonly rewards: ReadonlyArray<number>;
  /** `[S]` accuracy verdict per sequence. */
  readonly correct: ReadonlyArray<boolean>;
  /** `[S]` response lengths in tokens. */
  readonly lengths: ReadonlyArray<number>;
  /** Responses per prompt. */
  readonly groupSize: number;
}

/**
 * What {@link ObjectiveV2.advantages} computes once per step: per-sample quantities (each an array of
 * `S` numbers, `advantage` always present; e.g. `klWeight` for DADS) and the step's sample-level
 * metrics. A trainer hands each micro-batch the rows of `perSample` it holds.
 *
 * @since 0.2.0
 * @category objectives
 */
export interface StepSamples {
  readonly perSample: Readonly<Record<string, ReadonlyArray<number>>> & {
    readonly advantage: ReadonlyArray<number>;
  };
  readonly metrics: Readonly<Record<string, number>>;
}

/**
 * The counts of the whole step that every aggregation divides by, so that summing the losses (and
 * gradients) of any split into micro-batches gives exactly the loss of the unsplit step.
 *
 * @since 0.2.0
 * @category objectives
 */
export interface StepTotals {
  /** Response tokens of the step (`Σ lengths`). */
  readonly tokens: number;
  /** Sequences of the step (`S`). */
  readonly sequences: number;
  /** Sequences with at least one response token. */
  readonly responseSequences: number;
  /** The longest response of the step (the padded width `T` of the unsplit batch). */
  readonly paddedLength: number;
}

/**
 * One micro-batch of `R` rows (any subset of the step's sequences, groups may be split) padded to
 * `T` tokens.
 *
 * @since 0.2.0
 * @category objectives
 */
export interface ObjectiveMicroBatch<Tensor> {
  /** `[R, T]` log-probs under the current policy (differentiable). */
  readonly logp: Tensor;
  /** `[R, T]` log-probs under the policy that generated the rollouts (or the previous epoch's). */
  readonly logpOld: Tensor;
  /** `[R, T]` log-probs under the frozen reference policy, when the objective uses it. */
  readonly logpRef?: Tensor;
  /** `[R, T]` 1 for response tokens, 0 for padding. */
  readonly mask: Tensor;
  /** `[R, T]` per-token entropy of the current policy, when the policy computes it. */
  readonly entropy?: Tensor;
  /**
   * `[R, T]` per-token weights multiplied into the policy loss (rollout correction: truncated or
   * masked importance weights between the sampler and the trained policy). Default: all 1.
   */
  readonly tokenWeights?: Tensor;
  /** These rows' entries of {@link StepSamples.perSample}. */
  readonly samples: Readonly<Record<string, ReadonlyArray<number>>> & {
    readonly advantage: ReadonlyArray<number>;
  };
  /** The whole step's counts. */
  readonly totals: StepTotals;
}

/**
 * A micro-batch's share of the step's loss and metrics. Every value is additive: summing `loss` and
 * each metric over the micro-batches of a step gives the value of the unsplit step. Metric tensors
 * are scalars that the caller reads (asynchronously) and disposes.
 *
 * @since 0.2.0
 * @category objectives
 */
export interface MicroBatchOutput<Tensor> {
  readonly loss: Tensor;
  readonly metrics: Readonly<Record<string, Tensor>>;
}

/**
 * Version 2 of the objective contract: the step's advantages are computed once, on the whole batch
 * (`advantages`), and the loss of any micro-batch is normalised by the whole step's counts
 * (`microBatchLoss`), so gradient accumulation over any split equals the unsplit gradient. `loss`
 * evaluates a whole batch at once (advantages and one micro-batch holding every row), as v1 did.
 *
 * @since 0.2.0
 * @category objectives
 */
export interface ObjectiveV2<Tensor = unknown> {
  readonly specificationVersion: "v2";
  readonly name: string;
  readonly metricNames: ReadonlyArray<string>;
  /** Whether the objective needs `logpRef` at this point of training (no reference pass otherwise). */
  usesReference(context: ObjectiveContext): boolean;
  /** Per-sample advantages and weights of the whole step, in float64. */
  advantages(batch: SampleBatch, context: ObjectiveContext): StepSamples;
  /** One micro-batch's additive share of the loss. */
  microBatchLoss(input: ObjectiveMicroBatch<Tensor>, context: ObjectiveContext): MicroBatchOutput<Tensor>;
  /** The loss of a whole batch in one call. */
  loss(input: ObjectiveInput<Tensor>, context: ObjectiveContext): ObjectiveOutput<Tensor>;
}
