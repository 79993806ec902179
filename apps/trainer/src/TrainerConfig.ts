import { SHAPE_COLORS } from "@apo-rl/datasets/portable";
import { BACKEND_NAMES } from "@apo-rl/tensor/portable";
import { Effect, Schema } from "effect";

const withDefault = <S extends Schema.Top>(value: S["Encoded"]) =>
  Schema.withDecodingDefaultKey<S>(Effect.succeed(value));

const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1));
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));
const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0));
const Positive = Schema.Finite.check(Schema.isGreaterThan(0));
const Fraction = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThan(1));

/**
 * LoRA adapters for the policy (used by policies that support them, e.g. Qwen2.5-VL).
 *
 * @since 0.1.0
 * @category config
 */
export const LoraConfig = Schema.Struct({
  rank: PositiveInt,
  alpha: Positive.pipe(withDefault(16)),
  dropout: Fraction.pipe(withDefault(0)),
  targetModules: Schema.Array(Schema.Literals(["q", "k", "v", "o", "gate", "up", "down"])).pipe(
    withDefault(["q", "k", "v", "o"]),
  ),
});

/**
 * `model`: which policy to train. `checkpoint` is a checkpoint directory or `demo` (the embedded
 * demo policy).
 *
 * @since 0.1.0
 * @category config
 */
export const ModelConfig = Schema.Struct({
  checkpoint: Schema.String.check(Schema.isNonEmpty()),
  lora: Schema.optionalKey(LoraConfig),
  /**
   * Full fine-tuning: also train the vision tower (`true`), only its patch merger (`merger`), or
   * none of it (default `false`). Ignored with `lora`.
   */
  trainVisionTower: Schema.Union([Schema.Boolean, Schema.Literal("merger")]).pipe(withDefault(false)),
});

/**
 * Options of the synthetic tasks (`data.format: synthetic`): `task: counting` (default; `variant`,
 * `difficulty`) or `task: reasoning` (the reasoning task with an enumerating chain of thought;
 * `maxCount`).
 *
 * @since 0.1.0
 * @category config
 */
export const SyntheticDataConfig = Schema.Struct({
  /** `counting` (when absent) or `reasoning`. */
  task: Schema.optionalKey(Schema.Literals(["counting", "reasoning"])),
  /** `count` one colour, `sum` two colours added, `mixed` both. */
  variant: Schema.Literals(["count", "sum", "mixed"]).pipe(withDefault("count")),
  difficulty: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThanOrEqualTo(1)).pipe(
    withDefault(0.5),
  ),
  trainSize: PositiveInt.pipe(withDefault(2048)),
  imageSize: Schema.Int.check(Schema.isGreaterThanOrEqualTo(32), Schema.isLessThanOrEqualTo(512)).pipe(
    withDefault(56),
  ),
  /** `task: reasoning`: the largest count (2–8, default 6). */
  maxCount: Schema.optional(
    Schema.Int.check(Schema.isGreaterThanOrEqualTo(2), Schema.isLessThanOrEqualTo(8)),
  ),
  /** The colours a question asks about (default: all five). */
  targetColors: Schema.optional(Schema.Array(Schema.Literals(SHAPE_COLORS)).check(Schema.isMinLength(1))),
});

/**
 * `data`: the training prompts and the held-out evaluation set.
 *
 * @since 0.1.0
 * @category config
 */
export const DataConfig = Schema.Struct({
  format: Schema.Literals(["view-r1", "jsonl", "synthetic"]),
  path: Schema.optionalKey(Schema.String.check(Schema.isNonEmpty())),
  heldOutPath: Schema.optionalKey(Schema.String.check(Schema.isNonEmpty())),
  heldOutSize: NonNegativeInt.pipe(withDefault(64)),
  allowOutsideRoot: Schema.Boolean.pipe(withDefault(false)),
  skipInvalid: Schema.Boolean.pipe(withDefault(false)),
  /**
   * Most tokens of a prompt (chat template applied, images expanded) checked at load; default: the
   * model's `max_position_embeddings` (Qwen2.5-VL checkpoints).
   */
  maxPromptTokens: Schema.optionalKey(PositiveInt),
  /** Most images in one prompt, checked at load. */
  maxImagesPerPrompt: PositiveInt.pipe(withDefault(8)),
  /** Most pixels (width · height in the file's header) of one source image, checked at load. */
  maxImagePixels: PositiveInt.pipe(withDefault(89_478_485)),
  synthetic: SyntheticDataConfig.pipe(withDefault({})),
}).check(
  Schema.makeFilter((data) =>
    data.format !== "synthetic" && data.path === undefined
      ? { path: ["path"], issue: `data.format ${JSON.stringify(data.format)} needs data.path` }
      : undefined,
  ),
);

/**
 * `rollout`: sampling settings of the training rollouts.
 *
 * @since 0.1.0
 * @category config
 */
export const RolloutConfig = Schema.Struct({
  groupSize: Schema.Int.check(Schema.isGreaterThanOrEqualTo(2)).pipe(withDefault(8)),
  temperature: Positive.pipe(withDefault(1)),
  topP: Schema.Finite.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(1)).pipe(withDefault(1)),
  /** 0 disables top-k. */
  topK: NonNegativeInt.pipe(withDefault(0)),
  maxNewTokens: PositiveInt.pipe(withDefault(256)),
  stopStrings: Schema.Array(Schema.String).pipe(withDefault([])),
  /**
   * Rollout servers (OpenAI-compatible: apo-serve, vLLM, SGLang) to sample on, e.g.
   * `["http://127.0.0.1:8000"]`; absent or empty: sample in this process. See docs/rollout-service.md.
   */
  servers: Schema.optionalKey(Schema.Array(Schema.String.check(Schema.isPattern(/^https?:\/\/[^\s/]+/)))),
  /** Start this many local `apo-serve` processes on loopback ports for the run (absent or 0: none). */
  spawn: Schema.optionalKey(NonNegativeInt),
  /** The base model's name on `servers` (default: the first id of their `/v1/models`). */
  model: Schema.optionalKey(Schema.String.check(Schema.isNonEmpty())),
  /**
   * The model id on `servers` that serves the initial weights (the KL reference: with LoRA the base
   * model, else e.g. apo-serve's `--reference-model-name`): the servers then score each group's
   * reference log-probs and the trainer runs no reference pass. Set by itself for `spawn`.
   */
  referenceModel: Schema.optionalKey(Schema.String.check(Schema.isNonEmpty())),
  /** How new weights reach the servers: `lora` adapters, `disk` full checkpoints; absent: lora with `model.lora`. */
  weightSync: Schema.optionalKey(Schema.Literals(["lora", "disk"])),
  /** Time limit of one rollout request (default 300 s); a server that exceeds it is dropped and its groups retried elsewhere. */
  requestTimeoutSeconds: Schema.optionalKey(Positive),
  /** Requests one server runs or holds queued at once (default 2). */
  maxInFlightPerServer: Schema.optionalKey(PositiveInt),
  /**
   * Off-policy by this many steps (0 or 1, default 0): with 1, the rollouts of step k+1 are sampled
   * on the servers with step k's weights while step k trains (see `rolloutCorrection`). Applies to
   * rollout servers only: in-process rollouts are always on-policy and ignore it.
   */
  async: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1 }))),
  /**
   * How a step's requests are spread over the rollout servers (default `spread`): `spread` sends
   * each group to the server with the fewest requests in flight (the groups are sampled in
   * parallel); `pack` sends all of a step's groups to one server as one batch, the servers taking
   * turns (the least work in all: for servers on the trainer's own cores that sample beside the
   * training, `rollout.async: 1`). In-process rollouts ignore it.
   */
  dispatch: Schema.optionalKey(Schema.Literals(["spread", "pack"])),
  /**
   * In-process rollouts of a policy that can (LoRA: its reference is its own base weights) score
   * the reference log-probs while they decode, in twin rows of the same forwards, instead of a
   * separate reference pass (default `true`; `false`: the separate pass).
   */
  referenceInRollout: Schema.optionalKey(Schema.Boolean),
  /**
   * In-process rollouts keep the policy rows' decoder hidden states, and the training pass that
   * follows with the same weights starts from them instead of running the decoder forward again
   * (default `true`; a LoRA policy on the decoder layers, without dropout, with activation
   * checkpointing; other policies ignore it). `false`: the pass runs its own forward.
   */
  retainStates: Schema.optionalKey(Schema.Boolean),
}).check(
  Schema.makeFilter((rollout) =>
    (rollout.servers?.length ?? 0) > 0 && (rollout.spawn ?? 0) > 0
      ? { path: ["spawn"], issue: "give rollout.servers or rollout.spawn, not both" }
      : undefined,
  ),
);

/**
 * `reward`: the verifier (@apo-rl/rewards). `preset: view-r1` is `weights.accuracy · accuracy +
 * weights.format · format` (the `<think>…</think><answer>…</answer>` format); `preset: accuracy` is
 * the accuracy verifier alone. `accuracy` picks it: `math` (math answer equivalence), `counting`
 * (integers and number words), `choice` (multiple choice). Verifications run in a pool of
 * `workers` threads with a hard `timeoutMs` per chunk; `workers: 0` verifies in this thread with no
 * time limit.
 *
 * @since 0.1.0
 * @category config
 */
export const RewardConfig = Schema.Struct({
  preset: Schema.Literals(["view-r1", "accuracy"]).pipe(withDefault("view-r1")),
  accuracy: Schema.Literals(["math", "counting", "choice"]).pipe(withDefault("math")),
  weights: Schema.Struct({
    accuracy: NonNegative.pipe(withDefault(1)),
    format: NonNegative.pipe(withDefault(0.5)),
  }).pipe(withDefault({})),
  timeoutMs: PositiveInt.pipe(withDefault(2000)),
  workers: NonNegativeInt.pipe(withDefault(1)),
});

/**
 * `objective`: an objective of the registry by name, with its options (validated by the objective).
 *
 * @since 0.1.0
 * @category config
 */
export const ObjectiveConfig = Schema.Struct({
  name: Schema.String.check(Schema.isNonEmpty()).pipe(withDefault("apo")),
  options: Schema.Record(Schema.String, Schema.Unknown).pipe(withDefault({})),
});

/**
 * `optimizer`: AdamW with global gradient-norm clipping and a warm-up + cosine learning rate.
 *
 * @since 0.1.0
 * @category config
 */
export const OptimizerConfig = Schema.Struct({
  lr: Positive.pipe(withDefault(1e-6)),
  betas: Schema.Tuple([Fraction, Fraction]).pipe(withDefault([0.9, 0.999])),
  weightDecay: NonNegative.pipe(withDefault(0.01)),
  eps: Positive.pipe(withDefault(1e-8)),
  /** Maximum global gradient norm; 0 disables clipping. */
  gradClip: NonNegative.pipe(withDefault(1)),
  warmupSteps: NonNegativeInt.pipe(withDefault(0)),
  schedule: Schema.Literals(["cosine", "constant"]).pipe(withDefault("cosine")),
  /** The cosine decays to `lr * minLrRatio`. */
  minLrRatio: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThanOrEqualTo(1)).pipe(
    withDefault(0),
  ),
});

/** The keys `train` no longer accepts, with what replaces them. */
const removedTrainKeys = {
  microBatchSize:
    "train.microBatchSize was removed: set train.maxTokensPerMicroBatch (padded response tokens per forward/backward pass; groups may be split, the gradient does not depend on the split)",
  gradientAccumulation:
    "train.gradientAccumulation was removed: the number of micro-batches follows from train.maxTokensPerMicroBatch",
} as const;

/**
 * `train`: the loop. One step samples `promptsPerStep` prompts × `groupSize` responses, computes
 * their advantages once, then takes `ppoEpochs` × `miniBatchesPerStep` optimizer updates over them.
 * Each update runs forward/backward passes of at most `maxTokensPerMicroBatch` padded response
 * tokens (rows packed longest first, each micro-batch padded to its longest row; default: all rows
 * at once) and sums their gradients, every loss normalised by the update's whole token/sequence
 * counts. `microBatchSize` and `gradientAccumulation` were removed (a clear error names the new key).
 *
 * @since 0.1.0
 * @category config
 */
export const TrainConfig = Schema.Struct({
  steps: PositiveInt,
  promptsPerStep: PositiveInt.pipe(withDefault(8)),
  maxTokensPerMicroBatch: Schema.optionalKey(PositiveInt),
  /** Passes over each step's rollouts; > 1 makes the clipped ratio differ from 1. */
  ppoEpochs: PositiveInt.pipe(withDefault(1)),
  /** Optimizer updates per epoch, each on a contiguous share of the step's rows. */
  miniBatchesPerStep: PositiveInt.pipe(withDefault(1)),
  /** Removed (see `maxTokensPerMicroBatch`); present only to fail with a clear message. */
  microBatchSize: Schema.optionalKey(Schema.Unknown),
  /** Removed (see `maxTokensPerMicroBatch`); present only to fail with a clear message. */
  gradientAccumulation: Schema.optionalKey(Schema.Unknown),
  /** Evaluate on the held-out set every this many steps (and before the first and after the last); 0 = never. */
  evalEvery: NonNegativeInt.pipe(withDefault(0)),
  evalTemperature: NonNegative.pipe(withDefault(0)),
  /** Checkpoint every this many steps (and at the end); 0 = only at the end and on a signal. */
  saveEvery: NonNegativeInt.pipe(withDefault(0)),
  keepLast: PositiveInt.pipe(withDefault(2)),
  seed: NonNegativeInt.pipe(withDefault(0)),
  maxConsecutiveNonFinite: PositiveInt.pipe(withDefault(3)),
}).check(
  Schema.makeFilter((train) => {
    for (const [key, issue] of Object.entries(removedTrainKeys))
      if ((train as Record<string, unknown>)[key] !== undefined) return { path: [key], issue };
    return undefined;
  }),
);

/**
 * `output`: where the run writes config.json, metrics.jsonl, checkpoints/ and report.html.
 *
 * @since 0.1.0
 * @category config
 */
export const OutputConfig = Schema.Struct({
  runDir: Schema.String.check(Schema.isNonEmpty()).pipe(withDefault("runs/apo")),
});

/**
 * The whole configuration of a training run (the decoded form of run.yaml).
 *
 * @since 0.1.0
 * @category config
 */
export const TrainerConfig = Schema.Struct({
  /**
   * Modules imported before the rest of the config is read (paths relative to the config file, or
   * package names); they register objectives, advantage estimators or policy losses.
   */
  plugins: Schema.Array(Schema.String.check(Schema.isNonEmpty())).pipe(withDefault([])),
  model: ModelConfig,
  data: DataConfig,
  rollout: RolloutConfig.pipe(withDefault({})),
  reward: RewardConfig.pipe(withDefault({})),
  objective: ObjectiveConfig.pipe(withDefault({})),
  optimizer: OptimizerConfig.pipe(withDefault({})),
  train: TrainConfig,
  output: OutputConfig.pipe(withDefault({})),
  /**
   * `auto` (the `APO_BACKEND` environment variable, else tfjs-node-gpu → tfjs-node → webgpu → wasm →
   * cpu, the first usable) or one of @apo-rl/tensor's backend names.
   */
  backend: Schema.Literals(["auto", ...BACKEND_NAMES]).pipe(withDefault("auto")),
});

/**
 * @since 0.1.0
 * @category config
 */
export type TrainerConfig = typeof TrainerConfig.Type;

/**
 * The configuration as written in a file, before defaults are applied.
 *
 * @since 0.1.0
 * @category config
 */
export type TrainerConfigInput = typeof TrainerConfig.Encoded;
