import { decodeSync, type ImageInput, type RawImage } from "@apo-rl/core";
import { Schema } from "effect";
import type { DatasetItem } from "./DatasetItem.js";
import { type CountingScene, difficultySettings, drawScene, renderScene } from "./internal/countingScene.js";
import { drawSyntheticSplit, syntheticItem, syntheticSplitFields } from "./internal/syntheticSplit.js";
import { SHAPE_COLORS, type ShapeColor, SYNTHETIC_BACKGROUND, SYNTHETIC_COLORS } from "./SyntheticColors.js";

/**
 * Options of {@link syntheticCountingTask}; every field is optional (defaults in brackets).
 *
 * - `seed` [0]: draws the training items.
 * - `heldOutSeed` [24301]: draws the held-out items; fixed by default, so every training seed is
 *   evaluated on the same held-out set.
 * - `trainSize` [256], `heldOutSize` [64]: how many items each split has.
 * - `imageSize` [56]: the side of the square RGB images, in pixels (32 … 512).
 * - `difficulty` [0.5]: 0 … 1; higher means more shapes (at most 2 + round(4·d), so 2 … 6),
 *   more distractor colours (1 + round(3·d)) and smaller shapes.
 * - `variant` ["count"]: `count` asks for one colour ("How many red shapes are there?"), `sum` for
 *   two colours added ("How many red and blue shapes are there in total?"), `mixed` draws either.
 * - `targetColors` [all]: the colours the (first) question colour is drawn from.
 * - `instruction` [none]: text appended to every question after a space, e.g. an answer-format
 *   instruction.
 *
 * @since 0.1.0
 * @category synthetic
 */
export const SyntheticCountingOptions = Schema.Struct({
  ...syntheticSplitFields,
  imageSize: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 32, maximum: 512 }))),
  difficulty: Schema.optional(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))),
  variant: Schema.optional(Schema.Literals(["count", "sum", "mixed"])),
  targetColors: Schema.optional(Schema.Array(Schema.Literals(SHAPE_COLORS)).check(Schema.isMinLength(1))),
  instruction: Schema.optional(Schema.String),
});

/**
 * @since 0.1.0
 * @category synthetic
 */
export type SyntheticCountingOptions = typeof SyntheticCountingOptions.Type;

/**
 * {@link SyntheticCountingOptions} with every default filled in.
 *
 * @since 0.1.0
 * @category synthetic
 */
export interface ResolvedSyntheticCountingOptions {
  readonly seed: number;
  readonly heldOutSeed: number;
  readonly trainSize: number;
  readonly heldOutSize: number;
  readonly imageSize: number;
  readonly difficulty: number;
  readonly variant: "count" | "sum" | "mixed";
  readonly targetColors: ReadonlyArray<ShapeColor>;
  readonly instruction: string | undefined;
}

/**
 * A generated counting task: training items, held-out items (never the same scene and question as a
 * training item, whatever the seeds) and the options that produced them.
 *
 * @since 0.1.0
 * @category synthetic
 */
export interface SyntheticTask {
  readonly train: ReadonlyArray<DatasetItem>;
  readonly heldOut: ReadonlyArray<DatasetItem>;
  readonly options: ResolvedSyntheticCountingOptions;
}

const decodeOptions = decodeSync(SyntheticCountingOptions, "synthetic counting options");

/** The fixed default seed of the held-out split. */
const HELD_OUT_SEED = 24301;
const SPLIT_STREAM = { train: 1, heldOut: 2 } as const;

/**
 * Fill in the defaults of {@link SyntheticCountingOptions}; throws core's `InvalidInputError` naming
 * the bad field (unknown fields are errors).
 *
 * @since 0.1.0
 * @category synthetic
 */
export const resolveSyntheticCountingOptions = (
  options: SyntheticCountingOptions = {},
): ResolvedSyntheticCountingOptions => {
  const decoded = decodeOptions(options);
  return {
    seed: decoded.seed ?? 0,
    heldOutSeed: decoded.heldOutSeed ?? HELD_OUT_SEED,
    trainSize: decoded.trainSize ?? 256,
    heldOutSize: decoded.heldOutSize ?? 64,
    imageSize: decoded.imageSize ?? 56,
    difficulty: decoded.difficulty ?? 0.5,
    variant: decoded.variant ?? "count",
    targetColors: decoded.targetColors ?? SHAPE_COLORS,
    instruction: decoded.instruction,
  };
};

/**
 * The question asked about `colors`: one colour → "How many red shapes are there?", two → "How many
 * red and blue shapes are there in total?".
 *
 * @since 0.1.0
 * @category synthetic
 */
export const countingQuestion = (colors: ReadonlyArray<ShapeColor>): string =>
  colors.length === 1
    ? `How many ${colors[0]} shapes are there?`
    : `How many ${colors.join(" and ")} shapes are there in total?`;

/** The exact content of an item, so that equal scenes and questions share one fingerprint. */
const sceneKey = (scene: CountingScene, question: string, imageSize: number): string =>
  JSON.stringify([question, imageSize, scene.shapes.map((s) => [s.kind, s.color, s.left, s.top, s.size])]);

/**
 * Draw the items of one split (see `drawSyntheticSplit`: the held-out split is the fingerprint's
 * bucket, so the two splits cannot share a scene and question).
 */
const drawSplit = (
  split: "train" | "held-out",
  count: number,
  options: ResolvedSyntheticCountingOptions,
  encode: SyntheticImageEncoder,
): ReadonlyArray<DatasetItem> =>
  drawSyntheticSplit(split, count, options, SPLIT_STREAM, (random) => {
    const variant =
      options.variant === "mixed" ? (random.nextInt(2) === 0 ? "count" : "sum") : options.variant;
    const scene = drawScene(random, {
      imageSize: options.imageSize,
      difficulty: options.difficulty,
      variant,
      targetColors: options.targetColors,
    });
    const question = countingQuestion(scene.targets);
    return {
      key: sceneKey(scene, question, options.imageSize),
      toItem: (index) =>
        syntheticItem({
          prefix: "synthetic",
          split,
          index,
          question: options.instruction === undefined ? question : `${question} ${options.instruction}`,
          image: encode(
            options.imageSize,
            options.imageSize,
            renderScene(scene, options.imageSize, SYNTHETIC_COLORS, SYNTHETIC_BACKGROUND),
          ),
          answer: scene.answer,
          category: scene.variant,
        }),
    };
  });

/**
 * How a synthetic task stores one rendered image: `width × height × 3` RGB bytes in, an image input
 * out (PNG bytes in `syntheticCountingTask`, the pixels themselves in
 * {@link syntheticCountingTaskPixels}).
 *
 * @since 0.2.0
 * @category synthetic
 */
export type SyntheticImageEncoder = (width: number, height: number, rgb: Uint8Array) => ImageInput;

/**
 * The items of a counting task with each image stored by `encode` (see `syntheticCountingTask`).
 *
 * @since 0.2.0
 * @category synthetic
 */
export const drawSyntheticCountingTask = (
  options: SyntheticCountingOptions,
  encode: SyntheticImageEncoder,
): SyntheticTask => {
  const resolved = resolveSyntheticCountingOptions(options);
  return {
    train: drawSplit("train", resolved.trainSize, resolved, encode),
    heldOut: drawSplit("held-out", resolved.heldOutSize, resolved, encode),
    options: resolved,
  };
};

const rawPixels = (width: number, height: number, rgb: Uint8Array): RawImage => ({
  width,
  height,
  data: rgb,
});

/**
 * `syntheticCountingTask` without PNG encoding, for hosts without Node (a browser page): the same
 * items (ids, messages, answers, order) with each image as raw RGB pixels (`RawImage`), exactly the
 * pixels the PNG of `syntheticCountingTask` decodes to.
 *
 * @since 0.2.0
 * @category synthetic
 */
export const syntheticCountingTaskPixels = (options: SyntheticCountingOptions = {}): SyntheticTask =>
  drawSyntheticCountingTask(options, rawPixels);

const variantsOf = (options: ResolvedSyntheticCountingOptions): ReadonlyArray<"count" | "sum"> =>
  options.variant === "mixed" ? ["count", "sum"] : [options.variant];

/**
 * Every prompt text {@link syntheticCountingTask} can produce with these options (questions with the
 * instruction appended), e.g. to build a tokenizer vocabulary for the task.
 *
 * @since 0.1.0
 * @category synthetic
 */
export const possibleCountingPrompts = (options: SyntheticCountingOptions = {}): ReadonlyArray<string> => {
  const resolved = resolveSyntheticCountingOptions(options);
  const questions = variantsOf(resolved).flatMap((variant) =>
    resolved.targetColors.flatMap((first) =>
      variant === "count"
        ? [countingQuestion([first])]
        : SHAPE_COLORS.filter((second) => second !== first).map((second) =>
            countingQuestion([first, second]),
          ),
    ),
  );
  return questions.map((question) =>
    resolved.instruction === undefined ? question : `${question} ${resolved.instruction}`,
  );
};

/**
 * Every answer {@link syntheticCountingTask} can produce with these options, in increasing order:
 * `1 … maxShapes` for `count`, `2 … maxShapes` for `sum`, where `maxShapes` grows with the difficulty.
 *
 * @since 0.1.0
 * @category synthetic
 */
export const possibleCountingAnswers = (options: SyntheticCountingOptions = {}): ReadonlyArray<string> => {
  const resolved = resolveSyntheticCountingOptions(options);
  const answers = new Set<number>();
  for (const variant of variantsOf(resolved)) {
    const { maxShapes } = difficultySettings(resolved.difficulty, variant);
    for (let answer = variant === "sum" ? 2 : 1; answer <= maxShapes; answer++) answers.add(answer);
  }
  return [...answers].sort((a, b) => a - b).map(String);
};
