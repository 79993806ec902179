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
