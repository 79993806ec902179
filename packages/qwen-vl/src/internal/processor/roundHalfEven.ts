/**
 * Python's `round(x)` for a float: the nearest integer, halves to the even neighbour (`2.5 → 2`,
 * `3.5 → 4`). `Math.round` would round every half up.
 */
export const roundHalfEven = (value: number): number => {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
};
