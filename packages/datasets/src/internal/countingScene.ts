import type { SeededRandom } from "../SeededRandom.js";
import { SHAPE_COLORS, type ShapeColor } from "../SyntheticColors.js";

export type ShapeKind = "circle" | "square" | "triangle";

const SHAPE_KINDS: ReadonlyArray<ShapeKind> = ["circle", "square", "triangle"];

/** One shape, inside the square box at (`left`, `top`) of side `size` pixels. */
export interface Shape {
  readonly kind: ShapeKind;
  readonly color: ShapeColor;
  readonly left: number;
  readonly top: number;
  readonly size: number;
}

/** A counting question and the picture it is about. */
export interface CountingScene {
  readonly variant: "count" | "sum";
  /** The colours asked about: one for `count`, two for `sum`. */
  readonly targets: ReadonlyArray<ShapeColor>;
  readonly shapes: ReadonlyArray<Shape>;
  readonly answer: number;
}

export interface SceneSettings {
  readonly imageSize: number;
  readonly difficulty: number;
  readonly variant: "count" | "sum";
  readonly targetColors: ReadonlyArray<ShapeColor>;
}

/** Empty pixels kept between the boxes of two shapes (and from the image border: 1). */
const GAP = 2;
const PLACEMENT_ATTEMPTS = 200;
const LAYOUT_ATTEMPTS = 50;

/** How the difficulty (0 … 1) shapes a scene: more shapes, more distractor colours, smaller shapes. */
export const difficultySettings = (difficulty: number, variant: "count" | "sum") => ({
  maxShapes: Math.max(variant === "sum" ? 3 : 2, 2 + Math.round(4 * difficulty)),
  distractorColors: 1 + Math.round(3 * difficulty),
  sizeScale: 1 - 0.3 * difficulty,
});

const overlaps = (a: Shape, b: Shape): boolean =>
  a.left < b.left + b.size + GAP &&
  b.left < a.left + a.size + GAP &&
  a.top < b.top + b.size + GAP &&
  b.top < a.top + a.size + GAP;

/** Place shapes of the given colours without overlap, or `undefined` when a layout attempt fails. */
export const layout = (
  random: SeededRandom,
  colors: ReadonlyArray<ShapeColor>,
  imageSize: number,
  sizeScale: number,
): ReadonlyArray<Shape> | undefined => {
  const smallest = Math.max(5, Math.round(0.17 * imageSize * sizeScale));
  const largest = Math.max(smallest, Math.round(0.25 * imageSize * sizeScale));
  const shapes: Array<Shape> = [];
  for (const color of colors) {
    const size = random.nextIntBetween(smallest, largest);
    const kind = random.pick(SHAPE_KINDS);
    let placed: Shape | undefined;
    for (let attempt = 0; attempt < PLACEMENT_ATTEMPTS && placed === undefined; attempt++) {
      const candidate = {
        kind,
        color,
        size,
        left: random.nextIntBetween(1, imageSize - 1 - size),
        top: random.nextIntBetween(1, imageSize - 1 - size),
      };
      if (!shapes.some((shape) => overlaps(shape, candidate))) placed = candidate;
    }
    if (placed === undefined) return undefined;
    shapes.push(placed);
  }
  return shapes;
};

/** How many shapes of each asked colour: one count, or two of at least 1 adding up to ≤ `maxShapes`. */
const drawCounts = (
  random: SeededRandom,
  variant: "count" | "sum",
  maxShapes: number,
): ReadonlyArray<number> => {
  if (variant === "count") return [random.nextIntBetween(1, maxShapes)];
  const first = random.nextIntBetween(1, maxShapes - 1);
  return [first, random.nextIntBetween(1, maxShapes - first)];
};

/** Draw one scene: the question's colours, the counts, then a non-overlapping layout. */
export const drawScene = (random: SeededRandom, settings: SceneSettings): CountingScene => {
  const { maxShapes, distractorColors, sizeScale } = difficultySettings(
    settings.difficulty,
    settings.variant,
  );
  const first = random.pick(settings.targetColors);
  const targets =
    settings.variant === "sum"
      ? [first, random.pick(SHAPE_COLORS.filter((color) => color !== first))]
      : [first];
  const counts = drawCounts(random, settings.variant, maxShapes);
  const answer = counts.reduce((sum, count) => sum + count, 0);
  const others = random.shuffled(SHAPE_COLORS.filter((color) => !targets.includes(color)));
  const distractorPalette = others.slice(0, distractorColors);
  const distractors = random.nextIntBetween(0, maxShapes - answer);
  const colors = random.shuffled([
    ...targets.flatMap((color, index) => Array.from({ length: counts[index]! }, () => color)),
    ...Array.from({ length: distractors }, () => random.pick(distractorPalette)),
  ]);
  for (let attempt = 0; attempt < LAYOUT_ATTEMPTS; attempt++) {
    const shapes = layout(random, colors, settings.imageSize, sizeScale);
    if (shapes !== undefined) return { variant: settings.variant, targets, shapes, answer };
  }
  throw new Error(`cannot place ${colors.length} shapes in a ${settings.imageSize}px image`);
};

/** Whether the pixel whose centre is (`x` + ½, `y` + ½) in the shape's box belongs to the shape. */
const covers = (kind: ShapeKind, size: number, x: number, y: number): boolean => {
  const px = x + 0.5;
  const py = y + 0.5;
  const half = size / 2;
  if (kind === "square") return true;
  if (kind === "circle") return (px - half) ** 2 + (py - half) ** 2 <= half ** 2;
  return Math.abs(px - half) <= (py / size) * half;
};

/** Render a scene to `imageSize × imageSize × 3` RGB bytes on `background`. */
export const renderScene = (
  scene: { readonly shapes: ReadonlyArray<Shape> },
  imageSize: number,
  palette: Readonly<Record<ShapeColor, readonly [number, number, number]>>,
  background: readonly [number, number, number],
): Uint8Array => {
  const rgb = new Uint8Array(imageSize * imageSize * 3);
  for (let pixel = 0; pixel < imageSize * imageSize; pixel++) rgb.set(background, pixel * 3);
  for (const shape of scene.shapes) {
    const color = palette[shape.color];
    for (let y = 0; y < shape.size; y++)
      for (let x = 0; x < shape.size; x++)
        if (covers(shape.kind, shape.size, x, y))
          rgb.set(color, ((shape.top + y) * imageSize + shape.left + x) * 3);
  }
  return rgb;
};
