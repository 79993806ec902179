/**
 * Split rows into micro-batches under a token budget. Rows are taken longest first; a micro-batch
 * is padded to its longest row, so its cost is `rows × longest`, and a row joins the current
 * micro-batch while that cost stays within `maxTokens` (a row longer than the budget goes alone).
 * Without a budget every row goes into one micro-batch, in order. Returns row indices.
 *
 * @example
 * ```ts
 * planMicroBatches([4, 8, 2, 8], 16); // [[1, 3], [0, 2]]
 * ```
 * @since 0.2.0
 * @category training
 */
export const planMicroBatches = (
  tokens: ReadonlyArray<number>,
  maxTokens: number | undefined,
): ReadonlyArray<ReadonlyArray<number>> => {
  const rows = tokens.map((_, row) => row);
  if (rows.length === 0) return [];
  if (maxTokens === undefined) return [rows];
  const order = [...rows].sort((a, b) => tokens[b]! - tokens[a]! || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  let longest = 0;
  for (const row of order) {
    const width = Math.max(longest, tokens[row]!, 1);
    if (current.length > 0 && (current.length + 1) * width > maxTokens) {
      batches.push(current);
      current = [];
      longest = 0;
    }
    current.push(row);
    longest = Math.max(longest, tokens[row]!, 1);
  }
  batches.push(current);
  return batches;
};

/**
 * Split `count` rows, in order, into `parts` contiguous mini-batches as equal as possible (the first
 * ones one row longer); never an empty one.
 *
 * @since 0.2.0
 * @category training
 */
export const splitRows = (count: number, parts: number): ReadonlyArray<ReadonlyArray<number>> => {
  const pieces = Math.max(1, Math.min(parts, count));
  const result: number[][] = [];
  let start = 0;
  for (let piece = 0; piece < pieces; piece++) {
    const size = Math.floor(count / pieces) + (piece < count % pieces ? 1 : 0);
    result.push(Array.from({ length: size }, (_, offset) => start + offset));
    start += size;
  }
  return result;
};
