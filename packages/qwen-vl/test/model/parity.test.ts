import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForwardInputError, loadQwen25VL, type Qwen25VLModel } from "../../src/index.js";
import { asyncTestBackendNames, tolerance, useBackend } from "./support/backend.js";
import { fixtureDirectory, loadFixture, maxAbsDiff } from "./support/fixtures.js";

const image = loadFixture("image");
const textOnly = loadFixture("text_only");

/** log-softmax in float64 of one logits row, at `target`. */
const logprobAt = (row: ArrayLike<number>, target: number): number => {
  let max = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < row.length; index++) max = Math.max(max, row[index]!);
  let sum = 0;
  for (let index = 0; index < row.length; index++) sum += Math.exp(row[index]! - max);
  return row[target]! - max - Math.log(sum);
};

describe.each(asyncTestBackendNames)("Qwen2.5-VL parity with transformers (%s)", (backend) => {
  let model: Qwen25VLModel;
  let available = false;
  let tensorsBefore = 0;

  beforeAll(async () => {
    available = await useBackend(backend);
    if (!available) return;
    model = await loadQwen25VL(fixtureDirectory("image"));
    tensorsBefore = tf.memory().numTensors;
  });

  afterAll(() => {
    if (!available) return;
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    model.dispose();
  });

  it("runs the text-only fixture: hidden states per layer, logits and logprobs", async ({ skip }) => {
    if (!available) skip();
    const output = model.forward(
      { inputIds: [textOnly.inputs.input_ids] },
      { logits: true, layerStates: true },
    );
    const states = output.layerStates!;
    const expected = textOnly.text_hidden_states;
    expect(maxAbsDiff(await states[0]!.data(), expected[0]!)).toBeLessThan(tolerance(backend, 1e-6));
    expect(maxAbsDiff(await states[1]!.data(), expected[1]!)).toBeLessThan(tolerance(backend, 1e-5));
    expect(maxAbsDiff(await output.hiddenStates.data(), expected[2]!)).toBeLessThan(tolerance(backend, 1e-5));
    const logits = await output.logits!.data();
    expect(maxAbsDiff(logits, textOnly.logits)).toBeLessThan(tolerance(backend, 1e-5));
    const vocab = textOnly.logits[0]!.length;
    const ids = textOnly.inputs.input_ids;
    const logprobs = ids
      .slice(1)
      .map((target, index) => logprobAt(logits.subarray(index * vocab, (index + 1) * vocab), target));
    expect(maxAbsDiff(logprobs, textOnly.token_logprobs)).toBeLessThan(tolerance(backend, 1e-5));
    expect(output.ropeDeltas).toEqual([textOnly.rope_deltas]);
    tf.dispose([output.hiddenStates, output.logits!, ...states]);
  });

  it("keeps the layer states of the first rows only with layerStateRows", async ({ skip }) => {
    if (!available) skip();
    const ids = textOnly.inputs.input_ids;
    // Row 0 is the fixture's prompt; row 1 another of the same length.
    const output = model.forward(
      { inputIds: [ids, [...ids].reverse()] },
      { layerStates: true, layerStateRows: 1 },
    );
    const states = output.layerStates!;
    expect(states).toHaveLength(model.config.text.numHiddenLayers + 1);
    for (const state of states) expect(state.shape).toEqual([1, ids.length, model.config.text.hiddenSize]);
    const expected = textOnly.text_hidden_states;
    expect(maxAbsDiff(await states[0]!.data(), expected[0]!)).toBeLessThan(tolerance(backend, 1e-6));
    expect(maxAbsDiff(await states[1]!.data(), expected[1]!)).toBeLessThan(tolerance(backend, 1e-5));
    tf.dispose([output.hiddenStates, ...states]);
  });

  it("runs the image fixture: vision intermediates, image embeddings, hidden states, logits", async ({
    skip,
  }) => {
    if (!available) skip();
    const vision = model.encodeImages(
      new Float32Array(image.inputs.pixel_values!.flat()),
      image.inputs.image_grid_thw!,
      {
        intermediates: true,
      },
    );
    const debug = image.vision_debug!;
    expect(maxAbsDiff(await vision.patchEmbeds!.data(), debug.patch_embed_out)).toBeLessThan(
      tolerance(backend, 5e-5),
    );
    for (const [index, block] of vision.blockOutputs!.entries())
      expect(maxAbsDiff(await block.data(), debug.block_outputs_window_order[index]!)).toBeLessThan(
        tolerance(backend, 5e-5),
      );
    expect(maxAbsDiff(await vision.mergerOutput!.data(), debug.merger_out_window_order)).toBeLessThan(
      tolerance(backend, 1e-6),
    );
    expect(maxAbsDiff(await vision.imageEmbeds.data(), image.image_embeds!)).toBeLessThan(
      tolerance(backend, 1e-6),
    );
    tf.dispose([vision.imageEmbeds, vision.patchEmbeds!, vision.mergerOutput!, ...vision.blockOutputs!]);

    const output = model.forward(
      {
        inputIds: [image.inputs.input_ids],
        pixelValues: new Float32Array(image.inputs.pixel_values!.flat()),
        imageGridThw: image.inputs.image_grid_thw!,
      },
      { logits: true, layerStates: true },
    );
    const states = output.layerStates!;
    expect(maxAbsDiff(await states[0]!.data(), image.text_hidden_states[0]!)).toBeLessThan(
      tolerance(backend, 1e-6),
    );
    expect(maxAbsDiff(await states[1]!.data(), image.text_hidden_states[1]!)).toBeLessThan(
      tolerance(backend, 1e-5),
    );
    expect(maxAbsDiff(await output.hiddenStates.data(), image.text_hidden_states[2]!)).toBeLessThan(
      tolerance(backend, 1e-5),
    );
    expect(maxAbsDiff(await output.logits!.data(), image.logits)).toBeLessThan(tolerance(backend, 1e-5));
    expect(output.ropeDeltas).toEqual([image.rope_deltas]);
    expect(output.positionIds.map((row) => row[0])).toEqual(image.position_ids);
    tf.dispose([output.hiddenStates, output.logits!, ...states]);
  });

  it("takes precomputed image features (imageEmbeds) in place of pixelValues, with the fixture's logits", async ({
    skip,
  }) => {
    if (!available) skip();
    const pixelValues = new Float32Array(image.inputs.pixel_values!.flat());
    const imageGridThw = image.inputs.image_grid_thw!;
    const { imageEmbeds } = model.encodeImages(pixelValues, imageGridThw);
    const output = model.forward(
      { inputIds: [image.inputs.input_ids], imageGridThw, imageEmbeds },
      { logits: true },
    );
    expect(maxAbsDiff(await output.logits!.data(), image.logits)).toBeLessThan(tolerance(backend, 1e-5));
    expect(output.ropeDeltas).toEqual([image.rope_deltas]);
    // The caller keeps the features; both inputs at once are refused.
    expect(imageEmbeds.isDisposed).toBe(false);
    expect(() =>
      model.forward({ inputIds: [image.inputs.input_ids], imageGridThw, imageEmbeds, pixelValues }),
    ).toThrow(ForwardInputError);
    tf.dispose([imageEmbeds, output.hiddenStates, output.logits!]);
  });
});
