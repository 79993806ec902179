/**
 * The colours of the synthetic tasks' shapes, as RGB, chosen far apart so that every pixel of a shape
 * is exactly one of them (shapes are drawn without anti-aliasing).
 *
 * @since 0.1.0
 * @category synthetic
 */
export const SYNTHETIC_COLORS = {
  red: [220, 40, 40],
  green: [40, 160, 60],
  blue: [40, 90, 230],
  yellow: [240, 200, 30],
  purple: [150, 60, 200],
} as const satisfies Record<string, readonly [number, number, number]>;

/**
 * @since 0.1.0
 * @category synthetic
 */
export type ShapeColor = keyof typeof SYNTHETIC_COLORS;

/**
 * The colour names, in a fixed order.
 *
 * @since 0.1.0
 * @category synthetic
 */
export const SHAPE_COLORS = [
  "red",
  "green",
  "blue",
  "yellow",
  "purple",
] as const satisfies ReadonlyArray<ShapeColor>;

/**
 * The background of synthetic images (white).
 *
 * @since 0.1.0
 * @category synthetic
 */
export const SYNTHETIC_BACKGROUND = [255, 255, 255] as const;
