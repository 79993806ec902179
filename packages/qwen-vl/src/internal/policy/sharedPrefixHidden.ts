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
 * The final hidden states that predict each response token (`[tokens, hidden]`, rows in order,
 * tokens in order — the order of `responseLayout`'s `targets`), computed with each distinct prompt
 * run once: {@link Qwen25VLModel.forwardSharedPrompts} over the distinct prompts (left-padded) and
 * every row's response tokens but its last (right-padded) as its continuation. Token t > 0 of a
 * row is predicted at its continuation position t − 1; token 0 at its prompt's last position. The
 * same numbers as one forward over the left-padded `prompt ++ response` rows (up to float32
 * rounding of the differently padded sums), for `(distinct prompt tokens + response tokens)`
 * instead of `rows × (prompt + response)` tokens. Differentiable, with or without activation
 * checkpointing: a shared prompt's gradient is the sum over its rows. Call inside `tf.tidy`.
 */
export const sharedPrefixHidden = (
  model: Qwen25VLModel,
  prompts: ReadonlyArray<GenerationPrompt>,
  responses: ReadonlyArray<ReadonlyArray<number>>,
  padTokenId: number,
  adapter: { readonly adapter?: LinearAdapter | null },
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
      adapter,
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
