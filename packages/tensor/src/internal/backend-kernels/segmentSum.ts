type Numbers = { readonly length: number; [index: number]: number };

/**
 * `sums[s·rowSize + k] += values[i·rowSize + k]` for every row `i` with `0 ≤ ids[i] < numSegments`
 * (rows with other ids are dropped, as in TensorFlow). `sums` must start at zero. One pass, O(size of values).
 */
export const accumulateSegments = (
  values: Numbers,
  ids: Numbers,
  rowSize: number,
  numSegments: number,
  sums: Numbers,
): void => {
  for (let row = 0; row < ids.length; row++) {
    const segment = ids[row] as number;
    if (segment < 0 || segment >= numSegments) continue;
    const from = row * rowSize;
    const to = segment * rowSize;
    for (let k = 0; k < rowSize; k++) sums[to + k] = (sums[to + k] as number) + (values[from + k] as number);
  }
};

/** The output shape of `UnsortedSegmentSum` and the size of one row. */
export const segmentShape = (
  xShape: ReadonlyArray<number>,
  idsRank: number,
  numSegments: number,
): { readonly shape: Array<number>; readonly rowSize: number } => {
  const rowShape = xShape.slice(idsRank);
  return {
    shape: [numSegments, ...rowShape],
    rowSize: rowShape.reduce((product, size) => product * size, 1),
  };
};
