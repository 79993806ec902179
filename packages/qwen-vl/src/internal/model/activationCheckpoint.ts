import * as tf from "@tensorflow/tfjs-core";
import type { LinearAdapter } from "../../model/LinearAdapter.js";
import type { ParameterMap } from "./linear.js";

/** The parts of tfjs' engine state that checkpointing reads or restores. */
interface EngineState {
  gradientDepth: number;
  kernelDepth: number;
  activeTape: unknown;
}

const engineState = (): EngineState => tf.engine().state as unknown as EngineState;

/**
 * True while ops are recorded on a gradient tape: inside `tf.grads`/`tf.variableGrads`, and not
 * inside a kernel or a `customGrad` forward (whose inner ops are never taped).
 */
export const tapeRecording = (): boolean => {
  const state = engineState();
  return state.gradientDepth > 0 && state.kernelDepth === 0;
};

/** A segment of the network: a function of its input and of constant tensors (tables, masks, indices). */
export type Segment = (input: tf.Tensor, constants: ReadonlyArray<tf.Tensor>) => tf.Tensor;

/** `model.layers.12.` or `visual.blocks.3.` inside a variable name: the segment it belongs to. */
const segmentName = /(?:model\.layers|visual\.blocks)\.\d+\./;

/**
 * The trainable variables each checkpointed segment reads, by name prefix (`model.layers.3`,
 * `visual.blocks.0`): the model's own weights under that prefix and the adapter's variables whose
 * name contains it. An adapter variable that names no segment goes to every segment (its gradient
 * is then summed over all of them). `undefined` when the adapter cannot list its variables: its
 * gradients could not be routed, so the caller must not checkpoint.
 */
export const segmentVariables = (
  parameters: ParameterMap,
  adapter: LinearAdapter | undefined,
  prefixes: ReadonlyArray<string>,
): ReadonlyArray<ReadonlyArray<tf.Variable>> | undefined => {
  if (adapter !== undefined && adapter.variables === undefined) return undefined;
  const adapterVariables = (adapter?.variables?.() ?? []).filter((variable) => variable.trainable);
  const shared = adapterVariables.filter((variable) => !segmentName.test(variable.name));
  return prefixes.map((prefix) => {
    const key = `${prefix}.`;
    const own = [...parameters.entries()].flatMap(([name, variable]) =>
      variable.trainable && name.startsWith(key) ? [variable] : [],
    );
    const adapted = adapterVariables.filter((variable) => variable.name.includes(key));
    return [...own, ...adapted, ...shared];
  });
};

/**
 * Run `segment(input, constants)` keeping only its input (and the constants, which are shared)
 * for the backward pass: the tape holds one node, whose gradient recomputes the segment's forward
 * under a fresh tape, backpropagates `dy` through it and frees the recomputed activations at once.
 * Gradients flow to `input` and to `variables` — every trainable variable the segment reads must be
 * listed. An adapter's random draws (LoRA dropout) are replayed with the same seeds. Call only
 * while {@link tapeRecording}.
 */
export const checkpointSegment = (
  segment: Segment,
  input: tf.Tensor,
  constants: ReadonlyArray<tf.Tensor>,
  variables: ReadonlyArray<tf.Variable>,
  adapter: LinearAdapter | undefined,
): tf.Tensor => {
  const drawsBefore = adapter?.randomDraws;
  const run = tf.customGrad((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const x = args[0] as tf.Tensor;
    save([x, ...constants]);
    const value = segment(x, constants);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedInput, ...savedConstants] = saved as [tf.Tensor, ...tf.Tensor[]];
        const sources = [savedInput, ...variables];
        const state = engineState();
        const outerTape = state.activeTape;
        const drawsAfter = adapter?.randomDraws;
        if (adapter !== undefined && drawsBefore !== undefined) adapter.randomDraws = drawsBefore;
        try {
          const { value: recomputed, grads } = tf
            .engine()
            .gradients(() => segment(savedInput, savedConstants), sources, dy as tf.Tensor, true);
          recomputed.dispose();
          return grads.map((gradient, index) => gradient ?? tf.zerosLike(sources[index]!));
        } finally {
          // The recomputation ran its own tape: put the outer one (being backpropagated) back.
          state.activeTape = outerTape;
          if (adapter !== undefined && drawsAfter !== undefined) adapter.randomDraws = drawsAfter;
        }
      },
    };
  });
  return (run as (...inputs: tf.Tensor[]) => tf.Tensor)(input, ...variables);
};
