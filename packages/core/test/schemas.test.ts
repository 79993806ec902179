import { Effect, Exit } from "effect";
import { describe, expect, it } from "vitest";
import {
  assertSpecificationVersion,
  ChatMessage,
  decodeEffect,
  decodeSync,
  Group,
  InvalidInputError,
  Rollout,
  ScoredRollout,
  UnsupportedSpecificationError,
} from "../src/index.js";

const rollout = {
  promptId: "p1",
  groupIndex: 0,
  tokenIds: [9707, 1879],
  logprobs: [-0.5, -1.25],
  text: "Hello world",
  finishReason: "stop",
};

const caught = (run: () => unknown): InvalidInputError => {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error("expected an InvalidInputError");
};

describe("Rollout schema", () => {
  const decode = decodeSync(Rollout, "Rollout");

  it("accepts a well-formed rollout unchanged", () => {
    expect(decode(rollout)).toEqual(rollout);
  });

  it.each([
    [{ ...rollout, groupIndex: -1 }, "groupIndex"],
    [{ ...rollout, groupIndex: 1.5 }, "groupIndex"],
    [{ ...rollout, tokenIds: [1, -2] }, "tokenIds[1]"],
    [{ ...rollout, logprobs: [-0.5, 0.25] }, "logprobs[1]"],
    [{ ...rollout, logprobs: [-0.5, Number.NaN] }, "logprobs[1]"],
    [{ ...rollout, finishReason: "eos" }, "finishReason"],
    [{ ...rollout, promptId: "" }, "promptId"],
    [{ ...rollout, logprobs: [-0.5] }, "logprobs"],
    [{ ...rollout, surprise: true }, "surprise"],
  ])("rejects %j naming %s", (input, field) => {
    const error = caught(() => decode(input));
    expect(error._tag).toBe("InvalidInputError");
    expect(error.subject).toBe("Rollout");
    expect(error.field).toBe(field);
    expect(error.message).toContain(`at ${field}`);
  });

  it("lists every problem, not only the first", () => {
    const error = caught(() => decode({ ...rollout, groupIndex: -1, finishReason: "eos" }));
    expect(error.problems.map((problem) => problem.field).sort()).toEqual(["finishReason", "groupIndex"]);
  });

  it("fails in Effect with the same typed error", async () => {
    const exit = await Effect.runPromiseExit(decodeEffect(Rollout, "Rollout")({ ...rollout, text: 3 }));
    expect(Exit.isFailure(exit)).toBe(true);
    const error = await Effect.runPromise(
      Effect.flip(decodeEffect(Rollout, "Rollout")({ ...rollout, text: 3 })),
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.field).toBe("text");
  });
});

describe("Group and ScoredRollout schemas", () => {
  const scored = (groupIndex: number, promptId = "p1") => ({
    rollout: { ...rollout, groupIndex, promptId },
    reward: 1.5,
    correct: true,
    rewardBreakdown: { accuracy: 1, format: 0.5 },
  });

  it("accepts a group in groupIndex order", () => {
    const group = { promptId: "p1", rollouts: [scored(0), scored(1)] };
    expect(decodeSync(Group, "Group")(group)).toEqual(group);
  });

  it("names the rollout that is out of order or from another prompt", () => {
    expect(
      caught(() => decodeSync(Group, "Group")({ promptId: "p1", rollouts: [scored(0), scored(2)] })).field,
    ).toBe("rollouts[1]");
    expect(
      caught(() => decodeSync(Group, "Group")({ promptId: "p1", rollouts: [scored(0, "p2")] })).field,
    ).toBe("rollouts[0]");
  });

  it("rejects a non-finite reward breakdown", () => {
    const bad = { ...scored(0), rewardBreakdown: { accuracy: Number.POSITIVE_INFINITY } };
    expect(caught(() => decodeSync(ScoredRollout, "ScoredRollout")(bad)).field).toBe(
      "rewardBreakdown.accuracy",
    );
  });
});

describe("ChatMessage schema", () => {
  it("accepts string and multimodal content", () => {
    const decode = decodeSync(ChatMessage, "ChatMessage");
    expect(decode({ role: "user", content: "hi" }).content).toBe("hi");
    const parts = [
      { type: "image", image: "file:///tmp/a.png" },
      { type: "text", text: "How many?" },
    ];
    expect(decode({ role: "user", content: parts }).content).toEqual(parts);
  });

  it("rejects an unknown role naming the field", () => {
    expect(caught(() => decodeSync(ChatMessage, "ChatMessage")({ role: "robot", content: "x" })).field).toBe(
      "role",
    );
  });
});

describe("assertSpecificationVersion", () => {
  it("accepts v1 and v2 and rejects anything else with a typed error", () => {
    expect(() => assertSpecificationVersion("Objective", { specificationVersion: "v1" })).not.toThrow();
    expect(() => assertSpecificationVersion("Objective", { specificationVersion: "v2" })).not.toThrow();
    expect(() => assertSpecificationVersion("Objective", { specificationVersion: "v3" })).toThrow(
      UnsupportedSpecificationError,
    );
    expect(() => assertSpecificationVersion("Objective", {})).toThrow(/specificationVersion "undefined"/);
  });
});
