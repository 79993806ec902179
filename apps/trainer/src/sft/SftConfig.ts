import { SHAPE_COLORS } from "@apo-rl/datasets";
import { BACKEND_NAMES } from "@apo-rl/tensor";
import { Effect, Schema } from "effect";
import { OptimizerConfig } from "../TrainerConfig.js";

const withDefault = <S extends Schema.Top>(value: S["Encoded"]) =>
  Schema.withDecodingDefaultKey<S>(Effect.succeed(value));

const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1));
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0));

/**
 * `model` of an SFT run: the directory to start from (`config.json` + tokenizer files, with
 * `model.safetensors` unless `initSeed` is given) — `demo` is the demo's base directory
 * (`assets/demo`).
 *
 * @since 0.1.0
 * @category sft
 */
export const SftModelConfig = Schema.Struct({
  base: Schema.String.check(Schema.isNonEmpty()).pipe(withDefault("demo")),
  /** Start from random weights drawn with this seed instead of the base directory's weights. */
  initSeed: Schema.optionalKey(NonNegativeInt),
  /**
   * With `initSeed`: the standard deviation of the patch merger's random weights — a number, or
   * `fan-in` for `1/√fan_in` per weight (default: 0.02 like the decoder's). See `initQwen25VL`.
   */
  initMergerStd: Schema.optionalKey(
    Schema.Union([Schema.Finite.check(Schema.isGreaterThan(0)), Schema.Literal("fan-in")]),
  ),
  /**
   * Train the vision tower too (`true`), only its patch merger (`merger`: the projection into the
   * decoder), or none of it (default `false`: it stays as initialised or loaded).
   */
  trainVisionTower: Schema.Union([Schema.Boolean, Schema.Literal("merger")]).pipe(withDefault(false)),
});

/**
 * `data` of an SFT run: a synthetic task of @apo-rl/datasets (`seed` draws the training split; the
 * held-out split is the task's fixed one). `task: counting` (default) is the counting task
 * (`variant`, `difficulty`), supervised with the demo's fixed-length response; `task: reasoning` is
 * the reasoning task (`maxCount`), supervised with its enumerating solution (`reasoningSolution`).
 *
 * @since 0.1.0
 * @category sft
 */
export const SftDataConfig = Schema.Struct({
  /** `counting` (when absent) or `reasoning`. */
  task: Schema.optionalKey(Schema.Literals(["counting", "reasoning"])),
  seed: NonNegativeInt.pipe(withDefault(0)),
  trainSize: PositiveInt.pipe(withDefault(4096)),
  heldOutSize: NonNegativeInt.pipe(withDefault(64)),
  variant: Schema.Literals(["count", "sum", "mixed"]).pipe(withDefault("count")),
  difficulty: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThanOrEqualTo(1)).pipe(
    withDefault(0.5),
  ),
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
 * `train` of an SFT run: `steps` updates over batches of `batchSize` examples (drawn by a seeded
 * shuffle, epoch after epoch); greedy held-out evaluation every `evalEvery` steps (0: only at the
 * start and the end).
 *
 * @since 0.1.0
 * @category sft
 */
export const SftTrainConfig = Schema.Struct({
  steps: PositiveInt,
  batchSize: PositiveInt.pipe(withDefault(32)),
  /**
   * Padded response tokens per forward/backward pass (rows packed longest first, each micro-batch
   * padded to its longest row); the gradients are summed, so the update does not depend on it.
   * Default: the whole batch at once.
   */
  maxTokensPerMicroBatch: Schema.optionalKey(PositiveInt),
  seed: NonNegativeInt.pipe(withDefault(0)),
  evalEvery: NonNegativeInt.pipe(withDefault(0)),
  /**
   * Also save the policy every this many steps to `<output.dir>-step<N>` (0: only at the end). With a
   * constant learning rate, the checkpoint of step N equals the final one of a run of N steps.
   */
  saveEvery: NonNegativeInt.pipe(withDefault(0)),
  maxNewTokens: PositiveInt.pipe(withDefault(16)),
});

/**
 * The configuration of `apo-train sft`: supervised fine-tuning (teacher-forced cross-entropy on the
 * response tokens) of a Qwen2.5-VL policy on the synthetic counting task's demo responses.
 *
 * @since 0.1.0
 * @category sft
 */
export const SftConfig = Schema.Struct({
  model: SftModelConfig.pipe(withDefault({})),
  data: SftDataConfig.pipe(withDefault({})),
  optimizer: OptimizerConfig.pipe(withDefault({})),
  train: SftTrainConfig,
  output: Schema.Struct({ dir: Schema.String.check(Schema.isNonEmpty()) }),
  backend: Schema.Literals(["auto", ...BACKEND_NAMES]).pipe(withDefault("auto")),
});

/**
 * @since 0.1.0
 * @category sft
 */
export type SftConfig = typeof SftConfig.Type;
