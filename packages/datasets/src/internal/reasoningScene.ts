import type { SeededRandom } from "../SeededRandom.js";
import { SHAPE_COLORS, type ShapeColor } from "../SyntheticColors.js";
import { layout, type Shape } from "./countingScene.js";

/** A reasoning scene: how many shapes of `target` colour, among distractors of other colours. */
export interface ReasoningScene {
  readonly target: ShapeColor;
  readonly shapes: ReadonlyArray<Shape>;
  readonly answer: number;
  /** How many shapes are not of the target colour. */
  readonly distractors: number;
}

export interface ReasoningSceneSettings {
  readonly imageSize: number;
  readonly maxCount: number;
  readonly targetColors: ReadonlyArray<ShapeColor>;
}

const LAYOUT_ATTEMPTS = 50;
/** Shapes are drawn at this fraction of the counting task's size range (room for many shapes). */
const SIZE_SCALE = 0.75;

/**
 * The most distractors an item of `count` target shapes can have: grows with the count (1 + ⌊count/2⌋),
 * so that the items with many target shapes are also the most crowded ones.
 */
export const maxDistractors = (count: number): number => 1 + Math.floor(count / 2);

/**
 * Draw one scene: the target colour, the count (uniform in `1 … maxCount`, so every batch mixes
 * trivial and hard items), 0 … {@link maxDistractors} distractors in 1–3 other colours, then a
 * non-overlapping layout.
 */
export const drawReasoningScene = (
  random: SeededRandom,
  settings: ReasoningSceneSettings,
): ReasoningScene => {
  const target = random.pick(settings.targetColors);
  const answer = random.nextIntBetween(1, settings.maxCount);
  const palette = random
    .shuffled(SHAPE_COLORS.filter((color) => color !== target))
    .slice(0, random.nextIntBetween(1, 3));
  const distractors = random.nextIntBetween(0, maxDistractors(answer));
  const colors = random.shuffled([
    ...Array.from({ length: answer }, () => target),
    ...Array.from({ length: distractors }, () => random.pick(palette)),
  ]);
  for (let attempt = 0; attempt < LAYOUT_ATTEMPTS; attempt++) {
    const shapes = layout(random, colors, settings.imageSize, SIZE_SCALE);
    if (shapes !== undefined) return { target, shapes, answer, distractors };
  }
  throw new Error(`cannot place ${colors.length} shapes in a ${settings.imageSize}px image`);
};
