import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GenerationPrompt,
  generateTokens,
  loadQwen25VL,
  PromptTooLongError,
  type Qwen25VLModel,
} from "../../src/index.js";
import { asyncTestBackendNames, tolerance, useBackend } from "../model/support/backend.js";
import { fixtureDirectory, loadFixture, maxAbsDiff } from "../model/support/fixtures.js";

const image = loadFixture("image");
const textOnly = loadFixture("text_only");
const imagePrompt: GenerationPrompt = {
  inputIds: image.inputs.input_ids,
  pixelValues: new Float32Array(image.inputs.pixel_values!.flat()),
  imageGridThw: image.inputs.image_grid_thw!.map((g) => [g[0]!, g[1]!, g[2]!] as const),
};
const textPrompt: GenerationPrompt = { inputIds: textOnly.inputs.input_ids };
const base = { eosTokenIds: [], padTokenId: 0, seed: 1 };

/** float64 log-softmax of a float32 logits row at temperature T. */
const logSoftmax64 = (row: ArrayLike<number>, token: number, temperature: number) => {
  const scaled = Array.from(row, (value) => value / temperature);
  const max = Math.max(...scaled);
  const sum = scaled.reduce((total, value) => total + Math.exp(value - max), 0);
  return scaled[token]! - max - Math.log(sum);
};

describe.each(asyncTestBackendNames)("generateTokens (%s)", (backend) => {
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

  it("greedy decoding reproduces greedy_new_ids and greedy_step_logits of both fixtures", async ({
    skip,
  }) => {
    if (!available) skip();
    for (const [prompt, fixture] of [
      [imagePrompt, image],
      [textPrompt, textOnly],
    ] as const) {
      const [sequence] = await generateTokens(model, [prompt], {
        ...base,
        n: 1,
        temperature: 0,
        maxNewTokens: fixture.greedy_new_ids.length,
        keepLogits: true,
      });
      expect(sequence!.tokenIds).toEqual(fixture.greedy_new_ids);
      expect(sequence!.finishReason).toBe("length");
      sequence!.stepLogits!.forEach((row, step) => {
        expect(maxAbsDiff(row, fixture.greedy_step_logits[step]!)).toBeLessThan(tolerance(backend, 1e-5));
      });
      sequence!.logprobs.forEach((logprob, step) => {
        const expected = logSoftmax64(fixture.greedy_step_logits[step]!, sequence!.tokenIds[step]!, 1);
        expect(Math.abs(logprob - expected)).toBeLessThan(tolerance(backend, 1e-5));
      });
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it("a padded batch with n samples per prompt gives each prompt's own greedy numbers", async ({ skip }) => {
    if (!available) skip();
    const sequences = await generateTokens(model, [textPrompt, imagePrompt], {
      ...base,
      n: 3,
      temperature: 0,
      maxNewTokens: 4,
      keepLogits: true,
    });
    expect(sequences.map((s) => [s.promptIndex, s.groupIndex])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
      [1, 2],
    ]);
    for (const sequence of sequences) {
      const fixture = sequence.promptIndex === 0 ? textOnly : image;
      expect(sequence.tokenIds).toEqual(fixture.greedy_new_ids.slice(0, 4));
      sequence.stepLogits!.forEach((row, step) => {
        expect(maxAbsDiff(row, fixture.greedy_step_logits[step]!)).toBeLessThan(tolerance(backend, 1e-5));
      });
    }
  });

  it("cached logits and sampled log-probabilities equal an uncached forward's (float64 re-derivation)", async ({
    skip,
  }) => {
    if (!available) skip();
    const temperature = 0.7;
    const sequences = await generateTokens(model, [imagePrompt, textPrompt], {
      ...base,
      n: 2,
      temperature,
      topK: 50,
      maxNewTokens: 5,
      seed: 99,
      keepLogits: true,
    });
    for (const sequence of sequences.slice(0, 3)) {
      const prompt = sequence.promptIndex === 0 ? imagePrompt : textPrompt;
      const ids = [...Array.from(prompt.inputIds), ...sequence.tokenIds];
      const output = model.forward(
        {
          inputIds: [ids],
          ...(prompt.pixelValues === undefined
            ? {}
            : { pixelValues: prompt.pixelValues, imageGridThw: prompt.imageGridThw! }),
        },
        { logits: true },
      );
      const logits = (await output.logits!.array()) as number[][][];
      tf.dispose([output.hiddenStates, output.logits!]);
      sequence.tokenIds.forEach((token, step) => {
        const position = prompt.inputIds.length - 1 + step;
        expect(
          Math.abs(sequence.logprobs[step]! - logSoftmax64(logits[0]![position]!, token, temperature)),
        ).toBeLessThan(tolerance(backend, 1e-5));
        // Cached (decoding) and uncached logits agree.
        expect(maxAbsDiff(sequence.stepLogits![step]!, logits[0]![position]!)).toBeLessThan(
          tolerance(backend, 1e-5),
        );
      });
    }
  });

  it("is reproducible from the seed, and a rollout does not depend on its batch", async ({ skip }) => {
    if (!available) skip();
    const options = { ...base, n: 4, temperature: 1.5, maxNewTokens: 6, seed: 5 };
    const both = await generateTokens(model, [imagePrompt, textPrompt], options);
    const again = await generateTokens(model, [imagePrompt, textPrompt], options);
    expect(again.map((s) => s.tokenIds)).toEqual(both.map((s) => s.tokenIds));
    const other = await generateTokens(model, [imagePrompt, textPrompt], { ...options, seed: 6 });
    expect(other.map((s) => s.tokenIds)).not.toEqual(both.map((s) => s.tokenIds));
    const alone = await generateTokens(model, [imagePrompt], options);
    expect(alone.map((s) => s.tokenIds)).toEqual(both.slice(0, 4).map((s) => s.tokenIds));
    // Samples within a group differ at this temperature.
    expect(new Set(both.slice(0, 4).map((s) => s.tokenIds.join(","))).size).toBeGreaterThan(1);
  });

  it("a prompt with its own seed samples in a batch what it samples alone with that seed", async ({
    skip,
  }) => {
    if (!available) skip();
    const options = { ...base, n: 3, temperature: 1.5, maxNewTokens: 6, seed: 99 };
    const alone = [
      ...(await generateTokens(model, [imagePrompt], { ...options, seed: 11 })),
      ...(await generateTokens(model, [textPrompt], { ...options, seed: 12 })),
    ];
    const batched = await generateTokens(
      model,
      [
        { ...imagePrompt, seed: 11 },
        { ...textPrompt, seed: 12 },
      ],
      options,
    );
    expect(batched.map((s) => s.tokenIds)).toEqual(alone.map((s) => s.tokenIds));
    batched.forEach((sequence, index) => {
      sequence.logprobs.forEach((value, step) => {
        expect(Math.abs(value - alone[index]!.logprobs[step]!)).toBeLessThan(1e-4);
      });
    });
    // Without their own seeds the rows follow options.seed and the prompt's position instead.
    const shared = await generateTokens(model, [imagePrompt, textPrompt], options);
    expect(shared.map((s) => s.tokenIds)).not.toEqual(batched.map((s) => s.tokenIds));
    await expect(generateTokens(model, [{ ...textPrompt, seed: 1.5 }], options)).rejects.toThrow(
      /prompts\[0\]\.seed/,
    );
  });

  it("greedy rows decoded in one batch, finished rows dropped, equal each prompt decoded alone", async ({
    skip,
  }) => {
    if (!available) skip();
    const greedy = { ...base, n: 2, temperature: 0, maxNewTokens: 7 };
    const shortPrompt: GenerationPrompt = { inputIds: textOnly.inputs.input_ids.slice(0, 5) };
    // An EOS id that the image prompt reaches at its 3rd greedy token: its rows finish early and
    // leave the batch while the other prompts' rows keep decoding.
    const [probe] = await generateTokens(model, [imagePrompt], { ...greedy, n: 1 });
    const eos = probe!.tokenIds[2]!;
    const prompts = [textPrompt, imagePrompt, shortPrompt];
    const batched = await generateTokens(model, prompts, { ...greedy, eosTokenIds: [eos] });
    const alone: Awaited<ReturnType<typeof generateTokens>>[number][] = [];
    for (const prompt of prompts)
      alone.push(...(await generateTokens(model, [prompt], { ...greedy, eosTokenIds: [eos] })));
    expect(batched.map((s) => s.tokenIds)).toEqual(alone.map((s) => s.tokenIds));
    expect(batched.map((s) => s.finishReason)).toEqual(alone.map((s) => s.finishReason));
    batched.forEach((sequence, index) => {
      expect(sequence.logprobs.length).toBe(sequence.tokenIds.length);
      alone[index]!.logprobs.forEach((value, step) => {
        expect(Math.abs(sequence.logprobs[step]! - value)).toBeLessThan(1e-4);
      });
    });
    const imageRows = batched.filter((sequence) => sequence.promptIndex === 1);
    expect(imageRows.map((s) => s.finishReason)).toEqual(["stop", "stop"]);
    expect(imageRows[0]!.tokenIds.length).toBeLessThanOrEqual(3);
    expect(Math.max(...batched.map((s) => s.tokenIds.length))).toBeGreaterThan(imageRows[0]!.tokenIds.length);
  });

  it("stops at an EOS id (kept as the last token) or a stop string, else at the budget", async ({ skip }) => {
    if (!available) skip();
    const greedyOptions = { ...base, n: 1, temperature: 0, maxNewTokens: 5 };
    const [eos] = await generateTokens(model, [imagePrompt], { ...greedyOptions, eosTokenIds: [42] });
    expect(eos!.tokenIds).toEqual([42]);
    expect(eos!.finishReason).toBe("stop");
    const decode = (ids: ReadonlyArray<number>) => ids.map((id) => `<${id}>`).join("");
    const [stop] = await generateTokens(model, [imagePrompt], {
      ...greedyOptions,
      stopStrings: ["<42><42><42>"],
      decode,
    });
    expect(stop!.tokenIds).toEqual([42, 42, 42]);
    expect(stop!.finishReason).toBe("stop");
    const [length] = await generateTokens(model, [imagePrompt], greedyOptions);
    expect(length!.tokenIds).toHaveLength(5);
    expect(length!.finishReason).toBe("length");
    const [capped] = await generateTokens(model, [textPrompt], {
      ...greedyOptions,
      maxContextLength: textOnly.inputs.input_ids.length + 2,
    });
    expect(capped!.tokenIds).toHaveLength(2);
    expect(capped!.finishReason).toBe("length");
  });

  it("refuses a prompt that leaves no room in the context, naming it", async ({ skip }) => {
    if (!available) skip();
    const call = () =>
      generateTokens(model, [textPrompt, { ...imagePrompt, sample: "q-17" }], {
        ...base,
        n: 1,
        temperature: 0,
        maxNewTokens: 3,
        maxContextLength: image.inputs.input_ids.length,
      });
    await expect(call()).rejects.toThrow(PromptTooLongError);
    await expect(call()).rejects.toThrow(/q-17/);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
