import * as tf from "@tensorflow/tfjs-core";
import type { LinearAdapter } from "../../model/LinearAdapter.js";
import type { ParameterMap } from "./linear.js";

/** One recorded op of tfjs' gradient tape (the fields the recomputation's backward reads). */
interface TapeNode {
  readonly inputs: Readonly<Record<string, tf.Tensor>>;
  readonly outputs: ReadonlyArray<tf.Tensor>;
  readonly saved?: ReadonlyArray<tf.Tensor>;
  readonly gradient?: (dys: ReadonlyArray<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
}

/** The parts of tfjs' engine state that checkpointing reads or restores. */
interface EngineState {
  gradientDepth: number;
  kernelDepth: number;
  activeTape: TapeNode[] | null;
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

/** Record `forward` on a tape of its own (the outer tape, being backpropagated, is left as it was). */
const recordTape = (forward: () => tf.Tensor): { output: tf.Tensor; tape: ReadonlyArray<TapeNode> } => {
  const state = engineState();
  const outerTape = state.activeTape;
  state.activeTape = [];
  state.gradientDepth++;
  try {
    const output = tf.tidy(forward);
    return { output, tape: state.activeTape };
  } finally {
    state.gradientDepth--;
    state.activeTape = outerTape;
  }
};

/** Add `gradient` into `gradients[id]` (disposing the partial sum it replaces). */
const accumulate = (gradients: Map<number, tf.Tensor>, id: number, gradient: tf.Tensor): void => {
  const current = gradients.get(id);
  if (current === undefined) {
    gradients.set(id, gradient);
    return;
  }
  gradients.set(id, tf.add(current, gradient));
  current.dispose();
  gradient.dispose();
};

/**
 * Backpropagate `dy` from `output` to `sources` through `tape`, like tfjs' own backward pass, but
 * releasing as it goes: once an op is processed, the tensors it saved and the gradients of its
 * outputs are disposed (every consumer of those outputs was recorded after it, so is already
 * done). tfjs keeps both until the whole backward pass ends; here the peak is the recomputed
 * segment's activations plus a few gradients.
 */
const backpropagate = (
  tape: ReadonlyArray<TapeNode>,
  output: tf.Tensor,
  dy: tf.Tensor,
  sources: ReadonlyArray<tf.Tensor>,
): Array<tf.Tensor | undefined> => {
  // Which inputs of each op depend on a source (only those get a gradient).
  const fromSources = new Set(sources.map((source) => source.id));
  const sourceInputs = tape.map((node) => {
    const names = Object.keys(node.inputs).filter((name) => fromSources.has(node.inputs[name]!.id));
    if (names.length > 0) for (const out of node.outputs) fromSources.add(out.id);
    return names;
  });
  const gradients = new Map<number, tf.Tensor>([[output.id, dy]]);
  const sourceIds = new Set(sources.map((source) => source.id));
  try {
    for (let index = tape.length - 1; index >= 0; index--) {
      const node = tape[index]!;
      const names = sourceInputs[index]!;
      const dys = node.outputs.map((out) => gradients.get(out.id) ?? null);
      if (names.length > 0 && dys.some((value) => value !== null) && node.gradient !== undefined) {
        const inputGradients = tf.tidy(() => {
          const thunks = node.gradient!(dys);
          // A gradient that is one of the dys themselves is copied: those are released below.
          return names.map((name) => {
            const gradient = thunks[name]!();
            return dys.includes(gradient) ? gradient.clone() : gradient;
          });
        });
        names.forEach((name, position) => {
          accumulate(gradients, node.inputs[name]!.id, inputGradients[position]!);
        });
      }
      for (const tensor of node.saved ?? []) tensor.dispose();
      for (const out of node.outputs) {
        const gradient = gradients.get(out.id);
        if (gradient === undefined || gradient === dy || sourceIds.has(out.id)) continue;
        gradient.dispose();
        gradients.delete(out.id);
      }
    }
    return sources.map((source) => gradients.get(source.id));
  } catch (error) {
    for (const node of tape) for (const tensor of node.saved ?? []) tensor.dispose();
    for (const gradient of gradients.values()) if (gradient !== dy) gradient.dispose();
    throw error;
  }
};

/**
 * Run `segment(input, constants)` keeping only its input (and the constants, which are shared)
 * for the backward pass: the tape holds one node, whose gradient recomputes the segment's forward
 * under a fresh tape, backpropagates `dy` through it and frees the recomputed activations at once.
 * Gradients flow to `input` and to `variables` — every trainable variable the segment reads must be
 * listed. An adapter's random draws (LoRA dropout) are replayed with the same seeds. Call only
 * while {@link tapeRecording}.
 *
 * `output`, when given, is the segment's output for this input, already computed (the rollout's
 * hidden states, same weights): the forward then only returns it, and the backward recomputes the
 * segment from `input` as always.
 */
export const checkpointSegment = (
  segment: Segment,
  input: tf.Tensor,
  constants: ReadonlyArray<tf.Tensor>,
  variables: ReadonlyArray<tf.Variable>,
  adapter: LinearAdapter | undefined,
  output?: tf.Tensor,
): tf.Tensor => {
  const drawsBefore = adapter?.randomDraws;
  const run = tf.customGrad((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const x = args[0] as tf.Tensor;
    save([x, ...constants]);
    const value = output === undefined ? segment(x, constants) : tf.clone(output);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedInput, ...savedConstants] = saved as [tf.Tensor, ...tf.Tensor[]];
        const sources = [savedInput, ...variables];
        const drawsAfter = adapter?.randomDraws;
        if (adapter !== undefined && drawsBefore !== undefined) adapter.randomDraws = drawsBefore;
        let recorded: { output: tf.Tensor; tape: ReadonlyArray<TapeNode> };
        try {
          recorded = recordTape(() => segment(savedInput, savedConstants));
        } finally {
          if (adapter !== undefined && drawsAfter !== undefined) adapter.randomDraws = drawsAfter;
        }
        try {
          const grads = backpropagate(recorded.tape, recorded.output, dy as tf.Tensor, sources);
          return grads.map((gradient, index) => gradient ?? tf.zerosLike(sources[index]!));
        } finally {
          recorded.output.dispose();
        }
      },
    };
  });
  return (run as (...inputs: tf.Tensor[]) => tf.Tensor)(input, ...variables);
};
