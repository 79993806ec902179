import { decodeSync, InvalidInputError } from "@apo-rl/core";
import { Schema } from "effect";
import type { DatasetItem } from "./DatasetItem.js";
import { renderScene } from "./internal/countingScene.js";
import { encodeRgbPng } from "./internal/png.js";
import { drawReasoningScene, type ReasoningScene } from "./internal/reasoningScene.js";
import { drawSyntheticSplit, syntheticItem, syntheticSplitFields } from "./internal/syntheticSplit.js";
import { SHAPE_COLORS, type ShapeColor, SYNTHETIC_BACKGROUND, SYNTHETIC_COLORS } from "./SyntheticColors.js";
import { countingQuestion, type SyntheticTask } from "./SyntheticCountingTask.js";

/**
 * Options of {@link syntheticReasoningTask}; every field is optional (defaults in brackets).
 *
 * - `seed` [0]: draws the training items.
 * - `heldOutSeed` [51407]: draws the held-out items; fixed by default, so every training seed is
 *   evaluated on the same held-out set.
 * - `trainSize` [256], `heldOutSize` [64]: how many items each split has.
 * - `imageSize` [56]: the side of the square RGB images, in pixels (48 … 512).
 * - `maxCount` [6]: the largest answer (2 … 8); every item draws its count uniformly from
 *   `1 … maxCount`, so each batch mixes trivial items (one shape) with rarely solved ones.
 * - `targetColors` [all]: the colours a question asks about.
 *
 * @since 0.1.0
 * @category synthetic
 */
export const SyntheticReasoningOptions = Schema.Struct({
  ...syntheticSplitFields,
  imageSize: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 48, maximum: 512 }))),
  maxCount: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 2, maximum: 8 }))),
  targetColors: Schema.optional(Schema.Array(Schema.Literals(SHAPE_COLORS)).check(Schema.isMinLength(1))),
});

/**
 * @since 0.1.0
 * @category synthetic
 */
export type SyntheticReasoningOptions = typeof SyntheticReasoningOptions.Type;

/**
 * {@link SyntheticReasoningOptions} with every default filled in.
 *
 * @since 0.1.0
 * @category synthetic
 */
export interface ResolvedSyntheticReasoningOptions {
  readonly seed: number;
  readonly heldOutSeed: number;
  readonly trainSize: number;
  readonly heldOutSize: number;
  readonly imageSize: number;
  readonly maxCount: number;
  readonly targetColors: ReadonlyArray<ShapeColor>;
}

/**
 * A generated reasoning task: training items, held-out items (disjoint, whatever the seeds) and the
 * options that produced them.
 *
 * @since 0.1.0
 * @category synthetic
 */
export interface SyntheticReasoningTask extends Omit<SyntheticTask, "options"> {
  readonly options: ResolvedSyntheticReasoningOptions;
}

const decodeOptions = decodeSync(SyntheticReasoningOptions, "synthetic reasoning options");

/** The fixed default seed of the held-out split. */
const HELD_OUT_SEED = 51407;
/** Random streams of the two splits (distinct from the counting task's 1 and 2). */
const SPLIT_STREAM = { train: 11, heldOut: 12 } as const;

/**
 * Fill in the defaults of {@link SyntheticReasoningOptions}; throws core's `InvalidInputError`
 * naming the bad field (unknown fields are errors).
 *
 * @since 0.1.0
 * @category synthetic
 */
export const resolveSyntheticReasoningOptions = (
  options: SyntheticReasoningOptions = {},
): ResolvedSyntheticReasoningOptions => {
  const decoded = decodeOptions(options);
  return {
    seed: decoded.seed ?? 0,
    heldOutSeed: decoded.heldOutSeed ?? HELD_OUT_SEED,
    trainSize: decoded.trainSize ?? 256,
    heldOutSize: decoded.heldOutSize ?? 64,
    imageSize: decoded.imageSize ?? 56,
    maxCount: decoded.maxCount ?? 6,
    targetColors: decoded.targetColors ?? SHAPE_COLORS,
  };
};

const QUESTION = /^How many (\w+) shapes are there\?$/;

/**
 * The worked solution of a reasoning item: the think block enumerates every counted shape
 * (`red 1 red 2 red 3`), the answer block gives the count —
 * `<think> red 1 red 2 red 3 </think> <answer> 3 </answer>` for "How many red shapes are there?"
 * with answer 3. Its length grows by two words per counted shape. Throws core's
 * `InvalidInputError` when the question is not a reasoning question or the answer not a count ≥ 1.
 *
 * @since 0.1.0
 * @category synthetic
 */
export const reasoningSolution = (question: string, answer: string): string => {
  const match = QUESTION.exec(question.trim());
  const count = Number(answer.trim());
  if (match === null)
    throw new InvalidInputError({
      subject: "reasoningSolution",
      field: "question",
      problems: [],
      reason: `question ${JSON.stringify(question)} is not "How many <colour> shapes are there?"`,
    });
  if (!Number.isInteger(count) || count < 1)
    throw new InvalidInputError({
      subject: "reasoningSolution",
      field: "answer",
      problems: [],
      reason: `answer ${JSON.stringify(answer)} is not a count of at least 1`,
    });
  const steps = Array.from({ length: count }, (_, index) => `${match[1]} ${index + 1}`).join(" ");
  return `<think> ${steps} </think> <answer> ${count} </answer>`;
};

/** The exact content of an item, so that equal scenes and questions share one fingerprint. */
const sceneKey = (scene: ReasoningScene, question: string, imageSize: number): string =>
  JSON.stringify([
    "reasoning",
    question,
    imageSize,
    scene.shapes.map((s) => [s.kind, s.color, s.left, s.top, s.size]),
  ]);

const drawSplit = (
  split: "train" | "held-out",
  count: number,
  options: ResolvedSyntheticReasoningOptions,
): ReadonlyArray<DatasetItem> =>
  drawSyntheticSplit(split, count, options, SPLIT_STREAM, (random) => {
    const scene = drawReasoningScene(random, options);
    const question = countingQuestion([scene.target]);
    return {
      key: sceneKey(scene, question, options.imageSize),
      toItem: (index) =>
        syntheticItem({
          prefix: "reasoning",
          split,
          index,
          question,
          image: encodeRgbPng(
            options.imageSize,
            options.imageSize,
            renderScene(scene, options.imageSize, SYNTHETIC_COLORS, SYNTHETIC_BACKGROUND),
          ),
          answer: scene.answer,
          category: `count-${scene.answer}`,
        }),
    };
  });

/**
 * A synthetic multimodal reasoning task whose answers carry a variable-length chain of thought:
 * images like the counting task's (circles, squares and triangles in distinct colours on white),
 * the question "How many red shapes are there?", and a worked solution ({@link reasoningSolution})
 * that enumerates every counted shape before the answer. Each item draws its count uniformly from
 * `1 … maxCount` and up to `1 + ⌊count/2⌋` distractors, so one batch holds trivial items (one shape,
 * a 7-word solution) and hard ones (many crowded shapes, a long solution); the item's `category` is
 * `count-<n>`. A response that miscounts upwards enumerates more shapes and runs longer. The
 * held-out split is fixed (its own seed) and disjoint from every training split. Deterministic: the
 * same options give the same items, byte for byte. Throws core's `InvalidInputError` for bad options.
 *
 * @since 0.1.0
 * @category synthetic
 */
export const syntheticReasoningTask = (options: SyntheticReasoningOptions = {}): SyntheticReasoningTask => {
  const resolved = resolveSyntheticReasoningOptions(options);
  return {
    train: drawSplit("train", resolved.trainSize, resolved),
    heldOut: drawSplit("held-out", resolved.heldOutSize, resolved),
    options: resolved,
  };
};
