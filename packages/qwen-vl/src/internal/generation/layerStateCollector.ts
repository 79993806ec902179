import * as tf from "@tensorflow/tfjs-core";
import type { GenerationPrompt } from "../../generation/GenerationPrompt.js";

/**
 * The text decoder's hidden states of a rollout's policy rows, `L + 1` per token (the input
 * embeddings, then each layer's output before the final norm), unpadded.
 */
export interface RolloutLayerStates {
  /** Per prompt (index into the sampled prompts): `[L + 1, promptLength, hidden]`. */
  readonly prompts: ReadonlyArray<tf.Tensor3D>;
  /**
   * Per sequence (in the sampled order): `[L + 1, tokens − 1, hidden]`, the states at every
   * sampled token but the last (the inputs that predicted tokens 1…); `undefined` for a sequence of
   * fewer than two tokens.
   */
  readonly rows: ReadonlyArray<tf.Tensor3D | undefined>;
}

/** Release every tensor of `states`. */
export const disposeRolloutLayerStates = (states: RolloutLayerStates): void => {
  for (const tensor of states.prompts) tensor.dispose();
  for (const tensor of states.rows) tensor?.dispose();
};

/** Bytes `states` hold. */
export const rolloutLayerStatesBytes = (states: RolloutLayerStates): number =>
  [...states.prompts, ...states.rows].reduce((sum, tensor) => sum + 4 * (tensor?.size ?? 0), 0);

/**
 * Collects, while a rollout samples, the decoder states of its policy rows (a forward's first
 * rows; reference twins follow them and are not kept): the prefill's, then every decoding step's.
 * It owns and disposes the states it is handed.
 */
export class LayerStateCollector {
  #prompts: tf.Tensor3D[] = [];
  readonly #steps: tf.Tensor3D[] = [];
  /** Per step, the rows of its states in order. */
  readonly #stepRows: Array<ReadonlyArray<object>> = [];
  #sealed: RolloutLayerStates | undefined;

  /**
   * The prefill's states (`[P, Lp, hidden]` each, the prompts' rows only, left-padded): kept per
   * prompt without its padding.
   */
  prefill(states: ReadonlyArray<tf.Tensor3D>, prompts: ReadonlyArray<GenerationPrompt>): void {
    try {
      for (const tensor of this.#prompts) tensor.dispose();
      const width = states[0]!.shape[1];
      this.#prompts = prompts.map((prompt, index) => {
        const length = prompt.inputIds.length;
        return tf.tidy(() =>
          tf.stack(
            states.map((state) =>
              tf.reshape(tf.slice(state, [index, width - length, 0], [1, length, -1]), [length, -1]),
            ),
          ),
        ) as tf.Tensor3D;
      });
    } finally {
      for (const state of states) state.dispose();
    }
  }

  /** A decoding step's states (`[A, 1, hidden]` each, the active rows only), `rows` in order. */
  step(states: ReadonlyArray<tf.Tensor3D>, rows: ReadonlyArray<object>): void {
    try {
      const count = rows.length;
      this.#steps.push(
        tf.tidy(() => tf.stack(states.map((state) => tf.reshape(state, [count, -1])))) as tf.Tensor3D,
      );
      this.#stepRows.push([...rows]);
    } finally {
      for (const state of states) state.dispose();
    }
  }

  /**
   * The states per prompt and per row (`rows` in the sequences' order); the collector is emptied
   * and the caller owns the result. Each step is cut into its rows' pieces and released before the
   * next, and each row's pieces are joined and released before the next row: the peak stays about
   * one copy of the states.
   */
  finish(rows: ReadonlyArray<object>): RolloutLayerStates {
    const pieces = new Map<object, tf.Tensor3D[]>(rows.map((row) => [row, []]));
    try {
      this.#steps.forEach((step, index) => {
        this.#stepRows[index]!.forEach((row, position) => {
          pieces.get(row)?.push(tf.tidy(() => tf.slice(step, [0, position, 0], [-1, 1, -1])) as tf.Tensor3D);
        });
        step.dispose();
      });
      this.#steps.length = 0;
      this.#stepRows.length = 0;
      const rowStates = rows.map((row) => {
        const own = pieces.get(row)!;
        if (own.length === 0) return undefined;
        const joined = own.length === 1 ? own[0]! : (tf.concat(own, 1) as tf.Tensor3D);
        if (own.length > 1) for (const piece of own) piece.dispose();
        own.length = 0;
        return joined;
      });
      const prompts = this.#prompts;
      this.#prompts = [];
      return { prompts, rows: rowStates };
    } catch (error) {
      for (const own of pieces.values()) for (const piece of own) piece.dispose();
      throw error;
    } finally {
      this.#release();
    }
  }

  /** {@link LayerStateCollector.finish} kept inside until {@link LayerStateCollector.take}. */
  seal(rows: ReadonlyArray<object>): void {
    this.#sealed = this.finish(rows);
  }

  /** What {@link LayerStateCollector.seal} kept (nothing when no forward ran); the caller owns it. */
  take(): RolloutLayerStates {
    const sealed = this.#sealed ?? { prompts: [], rows: [] };
    this.#sealed = undefined;
    return sealed;
  }

  /** Release what was collected. */
  dispose(): void {
    if (this.#sealed !== undefined) disposeRolloutLayerStates(this.#sealed);
    this.#sealed = undefined;
    this.#release();
  }

  #release(): void {
    for (const tensor of this.#prompts) tensor.dispose();
    this.#prompts = [];
    for (const step of this.#steps) step.dispose();
    this.#steps.length = 0;
    this.#stepRows.length = 0;
  }
}
