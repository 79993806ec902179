import * as tf from "@tensorflow/tfjs-core";
import type { GenerationPrompt } from "../../generation/GenerationPrompt.js";
import type { LinearAdapter } from "../../model/LinearAdapter.js";
import type { Qwen25VLModel } from "../../model/Qwen25VLModel.js";
import { promptBatch } from "../generation/promptBatch.js";

/** Each row's prompt as an index into the distinct prompts (by object identity), in first-seen order. */
export const distinctPrompts = (
  prompts: ReadonlyArray<GenerationPrompt>,
): { readonly distinct: ReadonlyArray<GenerationPrompt>; readonly promptOfRow: ReadonlyArray<number> } => {
  const index = new Map<GenerationPrompt, number>();
  const distinct: GenerationPrompt[] = [];
  const promptOfRow = prompts.map((prompt) => {
    let found = index.get(prompt);
    if (found === undefined) {
      found = distinct.length;
      index.set(prompt, found);
      distinct.push(prompt);
    }
    return found;
  });
  return { distinct, promptOfRow };
};

/**
 * Rows' decoder states from sampling them (the same weights): per row its prompt's
 * `[L + 1, promptLength, hidden]` (one tensor for rows sharing a prompt) and its own
 * `[L + 1, tokens − 1, hidden]` (`undefined` below two tokens).
 */
export interface RowLayerStates {
  readonly prompts: ReadonlyArray<tf.Tensor3D>;
  readonly rows: ReadonlyArray<tf.Tensor3D | undefined>;
}

/**
 * The decoder's `L + 1` flat inputs `[P·Lp + R·Lr, hidden]` of a shared-prompt forward assembled
 * from `states`: each distinct prompt left-padded to `promptWidth`, each row's continuation (its
 * tokens but the last) right-padded to `continuation`, padding positions zero (masked out, and no
 * real position depends on them).
 */
const layerInputsOf = (
  states: RowLayerStates,
  distinct: ReadonlyArray<GenerationPrompt>,
  promptOfRow: ReadonlyArray<number>,
  responses: ReadonlyArray<ReadonlyArray<number>>,
  promptWidth: number,
  continuation: number,
): tf.Tensor2D[] => {
  const [layers, , hidden] = states.prompts[0]!.shape;
  const pieces: tf.Tensor[] = [];
  const pad = (length: number) => {
    if (length > 0) pieces.push(tf.zeros([layers, length, hidden]));
  };
  distinct.forEach((prompt, index) => {
    const state = states.prompts[promptOfRow.indexOf(index)]!;
    if (state.shape[1] !== prompt.inputIds.length)
      throw new Error(`prompt ${index}: states of ${state.shape[1]} tokens for ${prompt.inputIds.length}`);
    pad(promptWidth - prompt.inputIds.length);
    pieces.push(state);
  });
  responses.forEach((response, row) => {
    const used = Math.max(0, response.length - 1);
    const state = states.rows[row];
    if ((state?.shape[1] ?? 0) !== used)
      throw new Error(`row ${row}: states of ${state?.shape[1] ?? 0} tokens for ${used}`);
    if (state !== undefined && used > 0) pieces.push(state);
    pad(continuation - used);
  });
  return tf.unstack(tf.concat(pieces, 1)) as tf.Tensor2D[];
};

/**
 * The final hidden states that predict each response token (`[tokens, hidden]`, rows in order,
 * tokens in order — the order of `responseLayout`'s `targets`), computed with each distinct prompt
 * run once: {@link Qwen25VLModel.forwardSharedPrompts} over the distinct prompts (left-padded) and
 * every row's response tokens but its last (right-padded) as its continuation. Token t > 0 of a
 * row is predicted at its continuation position t − 1; token 0 at its prompt's last position. The
 * same numbers as one forward over the left-padded `prompt ++ response` rows (up to float32
 * rounding of the differently padded sums), for `(distinct prompt tokens + response tokens)`
 * instead of `rows × (prompt + response)` tokens. Differentiable, with or without activation
 * checkpointing: a shared prompt's gradient is the sum over its rows. With `states` (the rows'
 * hidden states from sampling them with these weights) nothing runs forward: see
 * `forwardSharedPrompts`' `layerInputs`. Call inside `tf.tidy`.
 */
export const sharedPrefixHidden = (
  model: Qwen25VLModel,
  prompts: ReadonlyArray<GenerationPrompt>,
  responses: ReadonlyArray<ReadonlyArray<number>>,
  padTokenId: number,
  adapter: { readonly adapter?: LinearAdapter | null },
  states?: RowLayerStates,
): tf.Tensor2D => {
  const { distinct, promptOfRow } = distinctPrompts(prompts);
  const batch = promptBatch(distinct, padTokenId);
  const promptInput = {
    inputIds: batch.inputIds,
    attentionMask: batch.attentionMask,
    ...(batch.pixelValues === undefined
      ? {}
      : { pixelValues: batch.pixelValues, imageGridThw: batch.imageGridThw }),
  };
  const count = distinct.length;
  const promptWidth = batch.inputIds[0]!.length;
  const hiddenSize = model.config.text.hiddenSize;
  const continuation = Math.max(0, ...responses.map((response) => response.length - 1));
  let source: tf.Tensor;
  if (continuation === 0) {
    source = tf.reshape(model.forward(promptInput, adapter).hiddenStates, [-1, hiddenSize]);
  } else {
    const output = model.forwardSharedPrompts(
      {
        prompts: promptInput,
        continuationIds: responses.map((response) =>
          Array.from({ length: continuation }, (_, t) =>
            t < response.length - 1 ? response[t]! : padTokenId,
          ),
        ),
        continuationMask: responses.map((response) =>
          Array.from({ length: continuation }, (_, t) => (t < response.length - 1 ? 1 : 0)),
        ),
        promptOfRow,
      },
      {
        ...adapter,
        ...(states === undefined
          ? {}
          : {
              layerInputs: layerInputsOf(states, distinct, promptOfRow, responses, promptWidth, continuation),
            }),
      },
    );
    source = tf.concat([
      tf.reshape(output.promptHidden, [-1, hiddenSize]),
      tf.reshape(output.continuationHidden, [-1, hiddenSize]),
    ]);
  }
  const rows: number[] = [];
  responses.forEach((response, row) => {
    response.forEach((_, t) => {
      rows.push(
        t === 0
          ? promptOfRow[row]! * promptWidth + promptWidth - 1
          : count * promptWidth + row * continuation + t - 1,
      );
    });
  });
  return tf.gather(source, tf.tensor1d(rows, "int32")) as tf.Tensor2D;
};
