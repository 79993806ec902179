import * as tf from "@tensorflow/tfjs-core";
import type { Qwen25VLConfig } from "../../config/Qwen25VLConfig.js";
import type { LinearAdapter } from "../../model/LinearAdapter.js";
import { checkpointSegment, segmentVariables, tapeRecording } from "./activationCheckpoint.js";
import { applyLinear, type ParameterMap, parameter, type SharedInput, sharedInput } from "./linear.js";
import { applyRotary, gelu, inverseFrequencies, rmsNorm, swiGlu } from "./ops.js";
import { disposeLayout, type SegmentLayout, segmentAttention, segmentLayout } from "./segmentAttention.js";
import { recordingGradients } from "./textDecoder.js";
import { visionSegments } from "./windowIndex.js";

/** What the vision tower computes; the intermediates only on request (window order). */
export interface VisionResult {
  /** `[N / merge², outHidden]`, raster order of each image's merged grid, images concatenated. */
  readonly imageEmbeds: tf.Tensor2D;
  readonly patchEmbeds?: tf.Tensor2D;
  readonly blockOutputs?: ReadonlyArray<tf.Tensor2D>;
  readonly mergerOutput?: tf.Tensor2D;
}

type Grid = ReadonlyArray<number>;

/** Angles `[row·inv, col·inv]` of each patch (merge-window order), `[N, headDim/2]` in float32. */
export const visionRotaryAngles = (grids: ReadonlyArray<Grid>, config: Qwen25VLConfig): Float32Array => {
  const { hiddenSize, numHeads, spatialMergeSize: merge } = config.vision;
  const inverse = inverseFrequencies(hiddenSize / numHeads / 2, 10000);
  const half = inverse.length;
  const total = grids.reduce((sum, g) => sum + g[0]! * g[1]! * g[2]!, 0);
  const out = new Float32Array(total * 2 * half);
  let n = 0;
  for (const [t, h, w] of grids as ReadonlyArray<readonly [number, number, number]>) {
    for (let frame = 0; frame < t; frame++) {
      for (let by = 0; by < h / merge; by++) {
        for (let bx = 0; bx < w / merge; bx++) {
          for (let my = 0; my < merge; my++) {
            for (let mx = 0; mx < merge; mx++) {
              const [row, column] = [by * merge + my, bx * merge + mx];
              for (let j = 0; j < half; j++) {
                out[n * 2 * half + j] = Math.fround(row * inverse[j]!);
                out[n * 2 * half + half + j] = Math.fround(column * inverse[j]!);
              }
              n++;
            }
          }
        }
      }
    }
  }
  return out;
};

/** cos/sin `[N, 1, headDim]` of `concat(θ, θ)`, rows permuted into window order. */
const rotaryTables = (angles: Float32Array, order: ReadonlyArray<number>, unit: number, half: number) => {
  const width = 4 * half;
  const n = order.length * unit;
  const cos = new Float32Array(n * width);
  const sin = new Float32Array(n * width);
  order.forEach((source, target) => {
    for (let k = 0; k < unit; k++) {
      const from = (source * unit + k) * 2 * half;
      const to = (target * unit + k) * width;
      for (let j = 0; j < 2 * half; j++) {
        const angle = angles[from + j]!;
        cos[to + j] = cos[to + 2 * half + j] = Math.cos(angle);
        sin[to + j] = sin[to + 2 * half + j] = Math.sin(angle);
      }
    }
  });
  return { cos: tf.tensor3d(cos, [n, 1, width]), sin: tf.tensor3d(sin, [n, 1, width]) };
};

interface BlockContext {
  readonly parameters: ParameterMap;
  readonly adapter: LinearAdapter | undefined;
  readonly config: Qwen25VLConfig;
  readonly cos: tf.Tensor;
  readonly sin: tf.Tensor;
}

const visionBlock = (context: BlockContext, index: number, x: tf.Tensor, layout: SegmentLayout): tf.Tensor =>
  tf.tidy(() => {
    const { parameters, adapter, config } = context;
    const { hiddenSize, numHeads } = config.vision;
    const headDim = hiddenSize / numHeads;
    const prefix = `visual.blocks.${index}`;
    const linear = (name: string, input: tf.Tensor | SharedInput) =>
      applyLinear(parameters, adapter, `${prefix}.${name}`, input);
    const normed = rmsNorm(x, parameter(parameters, `${prefix}.norm1.weight`), 1e-6);
    const n = x.shape[0]!;
    const [q, k, v] = tf
      .split(linear("attn.qkv", normed), 3, -1)
      .map((part) => tf.reshape(part, [n, numHeads, headDim]));
    const attended = segmentAttention(
      applyRotary(q!, context.cos, context.sin),
      applyRotary(k!, context.cos, context.sin),
      v!,
      layout,
    );
    const h = tf.add(x, linear("attn.proj", attended));
    const normed2 = rmsNorm(h, parameter(parameters, `${prefix}.norm2.weight`), 1e-6);
    const mlpInput = sharedInput(normed2);
    const mlp = linear(
      "mlp.down_proj",
      swiGlu(linear("mlp.gate_proj", mlpInput), linear("mlp.up_proj", mlpInput)),
    );
    return tf.add(h, mlp);
  });

/**
 * {@link visionBlock} under activation checkpointing: only its input stays on the tape; the rotary
 * tables and the segment layout are saved with it (shared, not copied) for the recomputation.
 */
const checkpointBlock = (
  context: BlockContext,
  index: number,
  x: tf.Tensor,
  layout: SegmentLayout,
  variables: ReadonlyArray<tf.Variable>,
): tf.Tensor => {
  const constants = [context.cos, context.sin, layout.gather, layout.scatter];
  if (layout.keyMask !== undefined) constants.push(layout.keyMask);
  return checkpointSegment(
    (input, [cos, sin, gather, scatter, keyMask]) =>
      visionBlock({ ...context, cos: cos!, sin: sin! }, index, input, {
        ...layout,
        gather: gather as tf.Tensor1D,
        scatter: scatter as tf.Tensor1D,
        keyMask: keyMask as tf.Tensor4D | undefined,
      }),
    x,
    constants,
    variables,
    context.adapter,
  );
};

/** Reorder `[N, D]` rows by units of `unit` consecutive rows. */
const permuteUnits = (x: tf.Tensor, order: tf.Tensor1D, unit: number): tf.Tensor => {
  const [n, d] = x.shape as [number, number];
  return tf.reshape(tf.gather(tf.reshape(x, [n / unit, unit * d]), order), [n, d]);
};

/**
 * The Qwen2.5-VL vision tower: patch embedding as one matmul, 2-D rotary embedding, window
 * attention (blocks not in `fullattBlockIndexes`) and per-image full attention, each computed
 * block-diagonally; SwiGLU MLP; RMSNorm; the 2×2 patch merger; window order undone at the end.
 */
export const encodeVision = (
  parameters: ParameterMap,
  adapter: LinearAdapter | undefined,
  config: Qwen25VLConfig,
  pixelValues: tf.Tensor2D,
  grids: ReadonlyArray<Grid>,
  intermediates: boolean,
  /** Recompute each block in the backward pass (only while a gradient tape records). */
  checkpoint = false,
): VisionResult => {
  const v = config.vision;
  const unit = v.spatialMergeSize * v.spatialMergeSize;
  const segments = visionSegments(grids, config);
  const half = v.hiddenSize / v.numHeads / 4;
  const { cos, sin } = rotaryTables(visionRotaryAngles(grids, config), segments.windowIndex, unit, half);
  const windowLayout = segmentLayout(segments.cuWindowSeqlens);
  const fullLayout = segmentLayout(segments.cuSeqlens);
  const order = tf.tensor1d(segments.windowIndex as number[], "int32");
  const inverse = new Int32Array(segments.windowIndex.length);
  segments.windowIndex.forEach((source, target) => {
    inverse[source] = target;
  });
  const restore = tf.tensor1d(inverse, "int32");
  try {
    return tf.tidy(() => {
      const context: BlockContext = { parameters, adapter, config, cos, sin };
      const patchEmbeds = applyLinear(parameters, adapter, "visual.patch_embed.proj", pixelValues);
      let x = permuteUnits(patchEmbeds, order, unit);
      const blockOutputs: tf.Tensor[] = [];
      const checkpointed =
        checkpoint && !intermediates && tapeRecording()
          ? segmentVariables(
              parameters,
              adapter,
              Array.from({ length: v.depth }, (_, index) => `visual.blocks.${index}`),
            )
          : undefined;
      for (let index = 0; index < v.depth; index++) {
        const layout = v.fullattBlockIndexes.includes(index) ? fullLayout : windowLayout;
        const next =
          checkpointed === undefined
            ? visionBlock(context, index, x, layout)
            : checkpointBlock(context, index, x, layout, checkpointed[index]!);
        if (intermediates) blockOutputs.push(next);
        else if (!recordingGradients()) x.dispose();
        x = next;
      }
      const normed = rmsNorm(x, parameter(parameters, "visual.merger.ln_q.weight"), 1e-6);
      const merged = tf.reshape(normed, [x.shape[0]! / unit, unit * v.hiddenSize]);
      const hidden = gelu(applyLinear(parameters, adapter, "visual.merger.mlp.0", merged));
      const mergerOutput = applyLinear(parameters, adapter, "visual.merger.mlp.2", hidden) as tf.Tensor2D;
      const imageEmbeds = tf.gather(mergerOutput, restore) as tf.Tensor2D;
      if (!intermediates) return { imageEmbeds };
      return {
        imageEmbeds,
        patchEmbeds: patchEmbeds as tf.Tensor2D,
        blockOutputs: blockOutputs as tf.Tensor2D[],
        mergerOutput,
      };
    });
  } finally {
    for (const tensor of [cos, sin, order, restore]) tensor.dispose();
    disposeLayout(windowLayout);
    disposeLayout(fullLayout);
  }
};
