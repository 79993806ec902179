/**
 * The one token-id convention of @apo-rl/qwen-vl: **a sequence is a flat array of token ids**
 * (`number[]` or an `Int32Array`), and **a batch is an array of sequences, `[batch][sequence]`**.
 * `model.forward` takes a batch (`inputIds: [B][S]`); `generateTokens` takes an array of prompts,
 * each with one sequence (`prompts[b].inputIds: [S]`); a rollout's `tokenIds` is one sequence, and
 * the policy's batches are arrays of rollouts. These checks name the expected shape when a value
 * has the other one (e.g. `[ids]` where one sequence is expected).
 */

const SEQUENCE = "one sequence of token ids: a flat number[] or Int32Array";
const BATCH = "[batch][sequence] token ids: an array of sequences, e.g. [ids] for one sequence";

/** Why `value` is not one flat sequence of token ids, or undefined when it is. */
export const sequenceShapeProblem = (value: unknown): string | undefined => {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return undefined;
  if (!Array.isArray(value)) return `expected ${SEQUENCE}, got ${describe(value)}`;
  const nested = value.findIndex((entry) => typeof entry !== "number");
  if (nested === -1) return undefined;
  const entry: unknown = value[nested];
  return Array.isArray(entry) || ArrayBuffer.isView(entry)
    ? `expected ${SEQUENCE}, got a nested array ([batch][sequence]); pass the sequence itself (ids, not [ids])`
    : `expected ${SEQUENCE}, got ${describe(entry)} at index ${nested}`;
};

/** Why `value` is not a `[batch][sequence]` array of token ids, or undefined when it is. */
export const batchShapeProblem = (value: unknown): string | undefined => {
  if (!Array.isArray(value)) return `expected ${BATCH}, got ${describe(value)}`;
  if (value.length > 0 && value.every((entry) => typeof entry === "number"))
    return `expected ${BATCH}; got a flat array of ${value.length} numbers (one sequence): wrap it as [ids]`;
  const bad = value.findIndex((row) => sequenceShapeProblem(row) !== undefined);
  return bad === -1 ? undefined : `expected ${BATCH}; row ${bad}: ${sequenceShapeProblem(value[bad])}`;
};

const describe = (value: unknown): string =>
  value === null
    ? "null"
    : Array.isArray(value)
      ? "an array"
      : typeof value === "object"
        ? `a ${value.constructor?.name ?? "object"}`
        : `${typeof value} ${JSON.stringify(value)}`;
