import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it, vi } from "vitest";
import {
  createLoraAdapter,
  ForwardInputError,
  type GenerationPrompt,
  initQwen25VL,
  type Qwen25VLModel,
  scoreResponses,
} from "../../src/index.js";
import { testBackendNames, useBackend } from "../model/support/backend.js";
import { tinyImagePrompt, tinyQwenConfig } from "../model/support/tinyConfig.js";

const config = tinyQwenConfig(3);

const padTokenId = 63;
const image = config.tokens.imageTokenId;
const textA: GenerationPrompt = { inputIds: [3, 9, 27, 1, 40, 12, 8] };
const textB: GenerationPrompt = { inputIds: [17, 5, 33, 2] };
const imagePrompt = tinyImagePrompt(config);
const otherImage: GenerationPrompt = {
  inputIds: [config.tokens.visionStartTokenId, image, image, image, image, config.tokens.visionEndTokenId, 7],
  pixelValues: new Float32Array(16 * 1176).map((_, i) => Math.sin(i * 0.11)),
  imageGridThw: [[1, 4, 4]],
};

/** Rows of a micro-batch: groups sharing a prompt object, mixed with rows whose prompt is alone. */
const cases = {
  text: {
    prompts: [textA, textA, textA, textB],
    responses: [[4, 19, 22, 7, 30], [11], [4, 19, 50], [36, 1, 2, 9, 44, 6]],
  },
  image: {
    prompts: [imagePrompt, textB, imagePrompt, otherImage, imagePrompt, textB],
    responses: [[4, 19, 22, 7], [8, 8, 3], [1], [20, 21, 22, 23, 24], [9, 2], [30, 31]],
  },
  /** Every response one token long: only the distinct prompts run (no continuation). */
  oneToken: {
    prompts: [textA, imagePrompt, textA, imagePrompt, textB],
    responses: [[4], [11], [7], [3], [9]],
  },
} as const;

/** Each prompt a distinct object: the unshared path (one forward over every whole row). */
const unsharedPrompts = (prompts: ReadonlyArray<GenerationPrompt>) =>
  prompts.map((prompt) => ({ ...prompt }));

/** A loss weighting every token differently, so no gradient is trivially symmetric between rows. */
const score = (
  model: Qwen25VLModel,
  prompts: ReadonlyArray<GenerationPrompt>,
  responses: ReadonlyArray<ReadonlyArray<number>>,
  sharePrompts: boolean,
) => {
  const { logp, mask, entropy } = scoreResponses(model, prompts, responses, {
    temperature: 0.7,
    padTokenId,
    entropy: true,
    sharePrompts,
  });
  const weights = tf.cos(tf.mul(tf.reshape(tf.range(0, logp.size), logp.shape), 0.9));
  const loss = tf.add(
    tf.sum(tf.mul(tf.mul(logp, mask), weights)),
    tf.mul(tf.sum(tf.mul(entropy!, mask)), 0.3),
  );
  return { loss: loss as tf.Scalar, logp, mask };
};

const run = (
  model: Qwen25VLModel,
  variables: tf.Variable[],
  rows: { prompts: ReadonlyArray<GenerationPrompt>; responses: ReadonlyArray<ReadonlyArray<number>> },
  shared: boolean,
) => {
  let logp: number[][] = [];
  const { value, grads } = tf.variableGrads(
    () =>
      tf.tidy(() => {
        const result = score(
          model,
          shared ? rows.prompts : unsharedPrompts(rows.prompts),
          rows.responses,
          shared,
        );
        logp = result.logp.arraySync() as number[][];
        return result.loss;
      }),
    variables,
  );
  const result = {
    loss: value.dataSync()[0]!,
    logp,
    grads: variables.map((variable) => Float32Array.from(grads[variable.name]!.dataSync())),
  };
  tf.dispose([value, ...Object.values(grads)]);
  return result;
};

const relativeError = (actual: ArrayLike<number>, expected: ArrayLike<number>): number => {
  let difference = 0;
  let norm = 0;
  for (let index = 0; index < expected.length; index++) {
    difference += (actual[index]! - expected[index]!) ** 2;
    norm += expected[index]! ** 2;
  }
  return Math.sqrt(difference) / Math.max(Math.sqrt(norm), 1e-30);
};

const expectSame = (
  shared: ReturnType<typeof run>,
  unshared: ReturnType<typeof run>,
  variables: ReadonlyArray<tf.Variable>,
) => {
  expect(Math.abs(shared.loss - unshared.loss)).toBeLessThanOrEqual(1e-5 * Math.abs(unshared.loss));
  expect(relativeError(shared.logp.flat(), unshared.logp.flat())).toBeLessThanOrEqual(1e-5);
  let exercised = 0;
  variables.forEach((variable, index) => {
    const norm = Math.hypot(...unshared.grads[index]!);
    if (norm === 0) {
      expect(Math.hypot(...shared.grads[index]!), variable.name).toBe(0);
      return;
    }
    exercised++;
    expect(relativeError(shared.grads[index]!, unshared.grads[index]!), variable.name).toBeLessThanOrEqual(
      1e-5,
    );
  });
  return exercised;
};

describe.each(testBackendNames)("rows sharing a prompt under a gradient tape (%s)", (backend) => {
  for (const checkpointing of [false, true]) {
    for (const kind of ["text", "image", "oneToken"] as const) {
      it(`full fine-tuning, ${kind} prompts, checkpointing ${checkpointing ? "on" : "off"}: loss, log-probs and every gradient equal the unshared pass`, async ({
        skip,
      }) => {
        if (!(await useBackend(backend))) return skip();
        const model = initQwen25VL(config, { seed: 5, std: 0.2, trainable: true });
        model.gradientCheckpointing = checkpointing;
        // Text prompts never reach the vision tower: its weights get no gradient at all.
        const variables = [...model.parameters.entries()]
          .filter(([name]) => kind !== "text" || !name.startsWith("visual."))
          .map(([, variable]) => variable);
        const spy = vi.spyOn(model, "forwardSharedPrompts");
        const before = tf.memory().numTensors;
        const unshared = run(model, variables, cases[kind], false);
        expect(spy).not.toHaveBeenCalled();
        expect(tf.memory().numTensors).toBe(before);
        const shared = run(model, variables, cases[kind], true);
        expect(spy).toHaveBeenCalledTimes(kind === "oneToken" ? 0 : 1);
        expect(tf.memory().numTensors).toBe(before);
        const exercised = expectSame(shared, unshared, variables);
        // Decoder (and, with images, vision tower) gradients are really exercised.
        expect(exercised).toBeGreaterThan(kind === "text" ? 30 : 40);
        model.dispose();
      });

      it(`LoRA, ${kind} prompts, checkpointing ${checkpointing ? "on" : "off"}: loss, log-probs and every adapter gradient equal the unshared pass`, async ({
        skip,
      }) => {
        if (!(await useBackend(backend))) return skip();
        const model = initQwen25VL(config, { seed: 9, std: 0.2 });
        model.gradientCheckpointing = checkpointing;
        const adapter = createLoraAdapter(model, {
          rank: 2,
          alpha: 4,
          targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj"],
        });
        for (const variable of adapter.variables())
          if (variable.name.endsWith("lora_B"))
            variable.assign(tf.randomNormal(variable.shape, 0, 0.3, "float32", 4));
        const variables = [...adapter.variables()];
        const before = tf.memory().numTensors;
        const unshared = run(model, variables, cases[kind], false);
        expect(tf.memory().numTensors).toBe(before);
        const shared = run(model, variables, cases[kind], true);
        expect(tf.memory().numTensors).toBe(before);
        expect(expectSame(shared, unshared, variables)).toBe(variables.length);
        adapter.dispose();
        model.dispose();
      });
    }
  }

  it("checkpointing on and off give the same shared-prompt gradients with LoRA dropout (the masks are replayed)", async ({
    skip,
  }) => {
    if (!(await useBackend(backend))) return skip();
    const model = initQwen25VL(config, { seed: 3, std: 0.2, parts: "text" });
    const adapter = createLoraAdapter(model, {
      rank: 2,
      alpha: 4,
      dropout: 0.3,
      targetModules: ["q_proj", "up_proj"],
    });
    for (const variable of adapter.variables())
      if (variable.name.endsWith("lora_B"))
        variable.assign(tf.randomNormal(variable.shape, 0, 0.3, "float32", 4));
    const variables = [...adapter.variables()];
    const before = tf.memory().numTensors;
    const withMode = (on: boolean) => {
      model.gradientCheckpointing = on;
      adapter.randomDraws = 0;
      return run(model, variables, cases.text, true);
    };
    const off = withMode(false);
    const on = withMode(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(expectSame(on, off, variables)).toBe(variables.length);
    adapter.dispose();
    model.dispose();
  });

  it("forwardSharedPrompts equals forward over the whole rows, and names a bad promptOfRow", async ({
    skip,
  }) => {
    if (!(await useBackend(backend))) return skip();
    const model = initQwen25VL(config, { seed: 1, std: 0.2, parts: "text" });
    const before = tf.memory().numTensors;
    const prompts = {
      inputIds: [
        [0, 0, 3, 9, 27],
        [17, 5, 33, 2, 8],
      ],
      attentionMask: [
        [0, 0, 1, 1, 1],
        [1, 1, 1, 1, 1],
      ],
    };
    const continuationIds = [
      [4, 19, 22],
      [11, 6, 0],
      [4, 1, 2],
    ];
    const continuationMask = [
      [1, 1, 1],
      [1, 1, 0],
      [1, 1, 1],
    ];
    const promptOfRow = [0, 1, 0];
    const shared = model.forwardSharedPrompts({ prompts, continuationIds, continuationMask, promptOfRow });
    const promptHidden = shared.promptHidden.arraySync();
    const continuationHidden = shared.continuationHidden.arraySync();
    tf.dispose([shared.promptHidden, shared.continuationHidden]);
    continuationIds.forEach((ids, row) => {
      const prompt = prompts.inputIds[promptOfRow[row]!]!.filter(
        (_, s) => prompts.attentionMask[promptOfRow[row]!]![s] === 1,
      );
      const real = ids.filter((_, s) => continuationMask[row]![s] === 1);
      const whole = model.forward({ inputIds: [[...prompt, ...real]] });
      const expected = whole.hiddenStates.arraySync()[0]!;
      whole.hiddenStates.dispose();
      const promptRow = promptHidden[promptOfRow[row]!]!;
      const got = [
        ...promptRow.slice(promptRow.length - prompt.length),
        ...continuationHidden[row]!.slice(0, real.length),
      ];
      expect(relativeError(got.flat(), expected.flat())).toBeLessThanOrEqual(1e-5);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(() => model.forwardSharedPrompts({ prompts, continuationIds, promptOfRow: [0, 2, 0] })).toThrow(
      ForwardInputError,
    );
    expect(() => model.forwardSharedPrompts({ prompts, continuationIds, promptOfRow: [0, 1] })).toThrow(
      /promptOfRow/,
    );
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
