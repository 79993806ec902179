import type { GenerationOptions, GenerationRequest } from "@apo-rl/core";
import { describe, expect, it } from "vitest";
import type { RolloutBatch, RolloutSource } from "../src/rollout/RolloutSource.js";
import type { RemoteGeneration, RolloutServerClient } from "../src/rollout/rolloutServerClient.js";
import { startingRolloutSource } from "../src/rollout/startingRolloutSource.js";
import { warmUpRolloutServers } from "../src/rollout/warmUpRolloutServers.js";

const request = (promptId: string): GenerationRequest => ({
  promptId,
  messages: [{ role: "user", content: `say ${promptId}` }],
});
const options: GenerationOptions = { n: 2, temperature: 1, maxNewTokens: 4, seed: 7 };

/** A source that logs what it is asked, in order. */
const recordingSource = (calls: string[]): RolloutSource => ({
  kind: "remote",
  schedule: (requests, _options, context) => {
    calls.push(`schedule ${context.step} ${requests.map((item) => item.promptId).join(",")}`);
  },
  generate: async (requests, _options, context): Promise<RolloutBatch> => {
    calls.push(`generate ${context.step}`);
    return {
      rollouts: requests.map((item) => ({
        promptId: item.promptId,
        groupIndex: 0,
        tokenIds: [context.step],
        logprobs: [-1],
        text: "",
        finishReason: "stop" as const,
      })),
    };
  },
  prepare: (context) => {
    calls.push(`prepare ${context.step}`);
  },
  evaluate: async (_requests, _options, context) => {
    calls.push(`evaluate ${context.step}`);
    return [];
  },
  close: async () => {
    calls.push("close");
  },
});

/** A promise with its resolve/reject outside. */
const deferred = <A>() => {
  let resolve: (value: A) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<A>((onValue, onError) => {
    resolve = onValue;
    reject = onError;
  });
  return { promise, resolve, reject };
};

describe("startingRolloutSource", () => {
  it("is not ready while it starts; calls made meanwhile wait and reach the source in order", async () => {
    const calls: string[] = [];
    const built = deferred<RolloutSource>();
    let awaited: () => boolean = () => false;
    const source = startingRolloutSource((isAwaited) => {
      awaited = isAwaited;
      return built.promise;
    });
    expect(source.ready!()).toBe(false);
    expect(awaited()).toBe(false);
    // As the trainer does with rollout.async: step 1's requests are scheduled before step 0 generates.
    source.schedule!([request("b")], options, { step: 1 });
    // Nothing to sync to yet: the first generate syncs.
    source.prepare!({ step: 0 });
    const generated = source.generate([request("a")], options, { step: 0 });
    expect(awaited()).toBe(true);
    await Promise.resolve();
    expect(calls).toEqual([]);
    built.resolve(recordingSource(calls));
    const batch = await generated;
    expect(batch.rollouts.map((rollout) => rollout.promptId)).toEqual(["a"]);
    expect(source.ready!()).toBe(true);
    source.prepare!({ step: 1 });
    await source.evaluate!([request("c")], options, { step: 1 });
    await source.close();
    expect(calls).toEqual(["schedule 1 b", "generate 0", "prepare 1", "evaluate 1", "close"]);
  });

  it("ready() follows the built source's own readiness once started", async () => {
    let inner = false;
    const source = startingRolloutSource(async () => ({ ...recordingSource([]), ready: () => inner }));
    await source.generate([request("a")], options, { step: 0 });
    expect(source.ready!()).toBe(false);
    inner = true;
    expect(source.ready!()).toBe(true);
  });

  it("a failed start rejects the calls that need the source; close still resolves", async () => {
    const failure = new Error("apo-serve exited (1) before listening");
    const source = startingRolloutSource(async () => {
      throw failure;
    });
    source.schedule!([request("b")], options, { step: 1 });
    await expect(source.generate([request("a")], options, { step: 0 })).rejects.toBe(failure);
    await expect(source.evaluate!([request("a")], options, { step: 0 })).rejects.toBe(failure);
    expect(source.ready!()).toBe(false);
    await expect(source.close()).resolves.toBeUndefined();
  });
});

/** A fake server client logging generate/score calls; `failOn` makes that call number throw. */
const fakeClient = (url: string, log: string[], failOn?: number): RolloutServerClient => {
  let count = 0;
  const answer = (seed: number): RemoteGeneration => ({
    choices: [{ tokenIds: [seed, 1], logprobs: [-1, -1], text: "", finishReason: "stop" }],
    promptTokenIds: [5, 6],
    imageUuids: [],
  });
  const unused = async () => {
    throw new Error("not used by the warm-up");
  };
  return {
    url,
    generate: async (model, item, generation) => {
      count += 1;
      if (count === failOn) throw new Error(`${url} is down`);
      log.push(`${url} generate ${model} ${item.promptId} n=${generation.n} seed=${generation.seed}`);
      return answer(generation.seed);
    },
    scoreResponses: async (model, _prompt, responses) => {
      log.push(`${url} score ${model} ${responses.map((tokens) => tokens.join(" ")).join("|")}`);
      return responses.map((tokens) => tokens.map(() => -1));
    },
    loadLoraAdapter: unused,
    unloadLoraAdapter: unused,
    updateWeightsFromDisk: unused,
    healthy: async () => true,
    modelIds: async () => ["policy"],
  };
};

describe("warmUpRolloutServers", () => {
  it("asks each server what a step asks it (perServer generations, then their scoring), for `rounds` rounds", async () => {
    const log: string[] = [];
    await warmUpRolloutServers([fakeClient("A", log), fakeClient("B", log)], {
      model: "policy",
      request: request("warm"),
      generation: options,
      referenceModel: "policy-reference",
      perServer: 2,
      rounds: 2,
    });
    for (const server of ["A", "B"]) {
      const calls = log.filter((line) => line.startsWith(`${server} `));
      const round = [
        `${server} generate policy warm n=2 seed=7`,
        `${server} generate policy warm n=2 seed=8`,
        `${server} score policy-reference 7 1`,
        `${server} score policy-reference 8 1`,
      ];
      expect(calls).toEqual([...round, ...round]);
    }
  });

  it("stops before a round once `stop` says so and scores nothing without a reference", async () => {
    const log: string[] = [];
    let asked = 0;
    await warmUpRolloutServers([fakeClient("A", log)], {
      model: "policy",
      request: request("warm"),
      generation: options,
      perServer: 1,
      rounds: 5,
      stop: () => {
        asked += 1;
        return asked > 2;
      },
    });
    expect(log).toEqual(["A generate policy warm n=2 seed=7", "A generate policy warm n=2 seed=7"]);
  });

  it("leaves a failing server alone and warms the others", async () => {
    const log: string[] = [];
    await expect(
      warmUpRolloutServers([fakeClient("A", log), fakeClient("B", log, 1)], {
        model: "policy",
        request: request("warm"),
        generation: options,
        perServer: 1,
        rounds: 2,
      }),
    ).resolves.toBeUndefined();
    expect(log).toEqual(["A generate policy warm n=2 seed=7", "A generate policy warm n=2 seed=7"]);
  });
});
