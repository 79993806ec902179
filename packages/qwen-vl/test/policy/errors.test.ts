import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createQwenVLPolicy,
  ForwardInputError,
  generateTokens,
  ImageCountMismatchError,
  ImageNotFoundError,
  loadQwen25VL,
  PolicyBatchError,
  PromptInputError,
  PromptTooLongError,
  type Qwen25VLModel,
  type QwenVLPolicy,
} from "../../src/index.js";
import { useBackend } from "../model/support/backend.js";
import { fixtureDirectory, loadFixture } from "../model/support/fixtures.js";
import { imageRequest, loadFixtureProcessor, textRequest } from "./support/fixturePolicy.js";

const options = { n: 1, temperature: 0, maxNewTokens: 2, seed: 0 };

describe("policy input errors name the sample", () => {
  let model: Qwen25VLModel;
  let policy: QwenVLPolicy;
  let tensorsBefore = 0;

  beforeAll(async () => {
    await useBackend("cpu");
    model = await loadQwen25VL(fixtureDirectory("image"));
    policy = createQwenVLPolicy({ model, processor: await loadFixtureProcessor(), maxContextLength: 40 });
    tensorsBefore = tf.memory().numTensors;
  });

  afterAll(() => {
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    model.dispose();
  });

  it("a missing image file", async () => {
    const request = imageRequest("row-3");
    const messages = [
      {
        role: "user" as const,
        content: [
          { type: "image" as const, image: "does-not-exist.png" },
          { type: "text" as const, text: "w1" },
        ],
      },
    ];
    const call = policy.generate([textRequest(), { ...request, messages }], options);
    await expect(call).rejects.toThrow(ImageNotFoundError);
    await expect(policy.generate([{ ...request, messages }], options)).rejects.toThrow(/row-3/);
  });

  it("a zero-size image", async () => {
    const request = {
      ...imageRequest("empty-7"),
      images: [{ width: 0, height: 0, data: new Uint8Array(0) }],
    };
    const error = await policy.generate([request], options).then(
      () => undefined,
      (caught: unknown) => caught as { _tag: string; sample: string },
    );
    expect(error?._tag).toMatch(/^(InvalidImageError|ImageSizeError)$/);
    expect(error?.sample).toBe("empty-7");
  });

  it("more image placeholders than images", async () => {
    const request = { ...imageRequest("two-pads"), images: [] };
    await expect(policy.generate([request], options)).rejects.toThrow(ImageCountMismatchError);
    await expect(policy.generate([request], options)).rejects.toThrow(/two-pads/);
  });

  it("a prompt longer than the context, at generation and at scoring", async () => {
    // The image prompt has 44 tokens; the context is 40.
    expect(loadFixture("image").inputs.input_ids).toHaveLength(44);
    const request = imageRequest("long-1");
    await expect(policy.generate([textRequest(), request], options)).rejects.toThrow(PromptTooLongError);
    await expect(policy.generate([request], options)).rejects.toThrow(/long-1/);
    const text = textRequest("text-2");
    const rollout = {
      promptId: "text-2",
      groupIndex: 0,
      tokenIds: Array(30).fill(1),
      logprobs: Array(30).fill(-1),
      text: "",
      finishReason: "length" as const,
    };
    expect(() => policy.logprobs({ requests: [text], rollouts: [rollout], temperature: 1 })).toThrow(
      /text-2/,
    );
  });

  it("bad sampling options name the field", async () => {
    await expect(policy.generate([textRequest()], { ...options, topP: 1.5 })).rejects.toThrow(/topP/);
    await expect(policy.generate([textRequest()], { ...options, n: 0 })).rejects.toThrow(/\bn\b/);
  });

  // One convention: a sequence is a flat array of token ids, a batch an array of sequences.
  it("token ids in the other shape name the expected one", async () => {
    const ids = [1, 2, 3];
    const forward = () => model.forward({ inputIds: ids as unknown as number[][] });
    expect(forward).toThrow(ForwardInputError);
    expect(forward).toThrow(
      "Invalid forward input at inputIds: expected [batch][sequence] token ids: an array of sequences, " +
        "e.g. [ids] for one sequence; got a flat array of 3 numbers (one sequence): wrap it as [ids]",
    );
    const generate = () =>
      generateTokens(model, [{ inputIds: [ids] as unknown as number[], sample: "q7" }], {
        n: 1,
        temperature: 0,
        maxNewTokens: 1,
        seed: 0,
        eosTokenIds: [],
        padTokenId: 0,
      });
    await expect(generate()).rejects.toThrow(PromptInputError);
    await expect(generate()).rejects.toThrow(
      'Invalid prompt of sample "q7" at prompts[0].inputIds: expected one sequence of token ids: ' +
        "a flat number[] or Int32Array, got a nested array ([batch][sequence]); pass the sequence itself (ids, not [ids])",
    );
    const rollout = {
      promptId: "text-3",
      groupIndex: 0,
      tokenIds: [ids] as unknown as number[],
      logprobs: [-1],
      text: "",
      finishReason: "length" as const,
    };
    const score = () =>
      policy.logprobs({ requests: [textRequest("text-3")], rollouts: [rollout], temperature: 1 });
    expect(score).toThrow(PolicyBatchError);
    expect(score).toThrow(/rollouts\[0\]\.tokenIds: expected one sequence of token ids: a flat number\[\]/);
  });
});
