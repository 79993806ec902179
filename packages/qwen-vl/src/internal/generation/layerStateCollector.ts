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
  #prompts: tf.Tensor4D | undefined;
  #promptLengths: ReadonlyArray<number> = [];
  readonly #steps: tf.Tensor3D[] = [];
  readonly #slots = new Map<object, number[]>();
  #slotCount = 0;
  #sealed: RolloutLayerStates | undefined;

  /** The prefill's states (`[B, Lp, hidden]` each); its first `prompts.length` rows are the prompts. */
  prefill(states: ReadonlyArray<tf.Tensor3D>, prompts: ReadonlyArray<GenerationPrompt>): void {
    try {
      this.#prompts?.dispose();
      this.#prompts = tf.tidy(() =>
        tf.stack(states.map((state) => tf.slice(state, [0, 0, 0], [prompts.length, -1, -1]))),
      ) as tf.Tensor4D;
      this.#promptLengths = prompts.map((prompt) => prompt.inputIds.length);
    } finally {
      for (const state of states) state.dispose();
    }
  }

  /** A decoding step's states (`[B, 1, hidden]` each); its first `rows.length` rows are `rows`. */
  step(states: ReadonlyArray<tf.Tensor3D>, rows: ReadonlyArray<object>): void {
    try {
      const count = rows.length;
      this.#steps.push(
        tf.tidy(() =>
          tf.stack(
            states.map((state) => tf.reshape(tf.slice(state, [0, 0, 0], [count, 1, -1]), [count, -1])),
          ),
        ) as tf.Tensor3D,
      );
    } finally {
      for (const state of states) state.dispose();
    }
    rows.forEach((row, index) => {
      const slots = this.#slots.get(row) ?? [];
      slots.push(this.#slotCount + index);
      this.#slots.set(row, slots);
    });
    this.#slotCount += rows.length;
  }

  /**
   * The states per prompt and per row (`rows` in the sequences' order); the collector is emptied
   * and the caller owns the result.
   */
  finish(rows: ReadonlyArray<object>): RolloutLayerStates {
    try {
      const prompts = this.#prompts;
      if (prompts === undefined) return { prompts: [], rows: rows.map(() => undefined) };
      return tf.tidy(() => {
        const [layers, , width, hidden] = prompts.shape;
        const promptStates = this.#promptLengths.map(
          (length, index) =>
            tf.reshape(tf.slice(prompts, [0, index, width - length, 0], [-1, 1, length, -1]), [
              layers,
              length,
              hidden,
            ]) as tf.Tensor3D,
        );
        const all = this.#steps.length === 0 ? undefined : tf.concat(this.#steps, 1);
        // The steps are copied into `all`: release them before the rows are gathered (peak 2×, not 3×).
        for (const step of this.#steps) step.dispose();
        this.#steps.length = 0;
        const rowStates = rows.map((row) => {
          const slots = this.#slots.get(row) ?? [];
          return all === undefined || slots.length === 0
            ? undefined
            : (tf.gather(all, tf.tensor1d(slots, "int32"), 1) as tf.Tensor3D);
        });
        return { prompts: promptStates, rows: rowStates };
      });
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
    this.#prompts?.dispose();
    this.#prompts = undefined;
    for (const step of this.#steps) step.dispose();
    this.#steps.length = 0;
    this.#slots.clear();
    this.#slotCount = 0;
  }
}
