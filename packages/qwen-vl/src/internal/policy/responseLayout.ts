/**
 * Where each response token sits in a left-padded batch of `prompt ++ response` rows: token t of
 * row k is predicted by the hidden state at `k·L + offset_k + promptLength_k + t − 1`, and lands at
 * `[k, t]` of the `[S, T]` output.
 */
export interface ResponseLayout {
  /** Row-major indices into the flattened `[S·L, hidden]` hidden states, one per response token. */
  readonly hiddenRows: Int32Array;
  /** The response tokens, in the same order. */
  readonly targets: Int32Array;
  /** For each `[k, t]` of `[S, T]`: its index in the token list, or `tokens` (a zero) for padding. */
  readonly scatter: Int32Array;
  /** `[S·T]`: 1 for a response token, 0 for padding. */
  readonly mask: Float32Array;
  readonly rows: number;
  readonly width: number;
  readonly tokens: number;
}

export const responseLayout = (
  promptLengths: ReadonlyArray<number>,
  responses: ReadonlyArray<ReadonlyArray<number>>,
  sequenceLength: number,
): ResponseLayout => {
  const rows = responses.length;
  const width = Math.max(0, ...responses.map((response) => response.length));
  const tokens = responses.reduce((sum, response) => sum + response.length, 0);
  const hiddenRows = new Int32Array(tokens);
  const targets = new Int32Array(tokens);
  const scatter = new Int32Array(rows * width).fill(tokens);
  const mask = new Float32Array(rows * width);
  let next = 0;
  responses.forEach((response, k) => {
    const offset = sequenceLength - promptLengths[k]! - response.length;
    response.forEach((token, t) => {
      hiddenRows[next] = k * sequenceLength + offset + promptLengths[k]! + t - 1;
      targets[next] = token;
      scatter[k * width + t] = next;
      mask[k * width + t] = 1;
      next++;
    });
  });
  return { hiddenRows, targets, scatter, mask, rows, width, tokens };
};
