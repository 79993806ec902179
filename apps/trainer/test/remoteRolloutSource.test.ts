import { mkdtempSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GenerationRequest } from "@apo-rl/core";
import { describe, expect, it } from "vitest";
import { remoteRolloutSource } from "../src/rollout/remoteRolloutSource.js";
import type { RolloutServerClient } from "../src/rollout/rolloutServerClient.js";
import type { TrainablePolicy } from "../src/TrainablePolicy.js";

const request = (promptId: string): GenerationRequest => ({
  promptId,
  messages: [{ role: "user", content: `say ${promptId}` }],
});
const options = { n: 2, temperature: 1, maxNewTokens: 4, seed: 3 };

/** Lets pending answers and loads run for `milliseconds`. */
const tick = (milliseconds = 5) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** A server that records the weight versions it loads and samples with the last one. */
const fakeServer = (url: string, log: string[]): RolloutServerClient => {
  let version = "none";
  const unused = async () => {
    throw new Error("unused");
  };
  return {
    url,
    updateWeightsFromDisk: async (_path, weightVersion) => {
      log.push(`${url} load v${weightVersion}`);
      await tick();
      version = weightVersion;
    },
    generate: async (_model, item, generation) => {
      log.push(`${url} generate ${item.promptId} with v${version}`);
      return {
        choices: Array.from({ length: generation.n }, (_, index) => ({
          tokenIds: [index],
          logprobs: [-0.5],
          text: String(index),
          finishReason: "stop" as const,
        })),
        promptTokenIds: [1],
        imageUuids: [],
      };
    },
    scoreResponses: unused,
    loadLoraAdapter: unused,
    unloadLoraAdapter: unused,
    healthy: async () => true,
    modelIds: async () => ["policy"],
  };
};

const source = (log: string[]) => {
  const saves: string[] = [];
  const policy = {
    save: async (directory: string) => {
      saves.push(directory.split("/").at(-1)!);
      await mkdir(directory, { recursive: true });
    },
  } as unknown as TrainablePolicy;
  const remote = remoteRolloutSource({
    clients: [fakeServer("A", log), fakeServer("B", log)],
    policy,
    weightSync: "disk",
    baseModel: "policy",
    syncDirectory: mkdtempSync(join(tmpdir(), "apo-remote-prepare-")),
  });
  return { remote, saves };
};

describe("remoteRolloutSource.prepare", () => {
  it("starts the weight sync of a step at once; the step's rollouts then reuse it and sample with those weights", async () => {
    const log: string[] = [];
    const { remote, saves } = source(log);
    await remote.generate([request("a"), request("b")], options, { step: 0 });
    remote.prepare!({ step: 1 });
    // Asked for while the prepared sync still runs: one write, one load per server.
    const batch = await remote.generate([request("c"), request("d")], options, { step: 1 });
    expect(saves).toEqual(["v0", "v1"]);
    expect(log.filter((line) => line.includes("load"))).toEqual([
      "A load v0",
      "B load v0",
      "A load v1",
      "B load v1",
    ]);
    expect(log.filter((line) => line.includes("generate c") || line.includes("generate d"))).toHaveLength(2);
    for (const line of log.filter((entry) => / generate [cd] /.test(entry))) expect(line).toMatch(/with v1$/);
    expect(batch.record!.weightVersion).toBe(1);
    expect(batch.record!.assignments.every((assignment) => assignment.weightVersion === 1)).toBe(true);
    await remote.close();
  });

  it("writes the new weights at once while the next step's rollouts are sampled ahead (rollout.async); servers load them once idle, and only once", async () => {
    const log: string[] = [];
    const { remote, saves } = source(log);
    remote.schedule!([request("c")], options, { step: 1 });
    await remote.generate([request("a")], options, { step: 0 });
    // Step 1's rollouts are being sampled with version 0 now; preparing version 1 must not interfere.
    remote.prepare!({ step: 1 });
    const next = await remote.generate([request("c")], options, { step: 1 });
    expect(next.record!.weightVersion).toBe(0);
    expect(next.record!.staleness).toBe(1);
    expect(log.filter((line) => line.includes("load"))).toEqual(["A load v0", "B load v0"]);
    expect(log.filter((line) => line.includes("generate c"))).toHaveLength(1);
    expect(log.find((line) => line.includes("generate c"))).toMatch(/with v0$/);
    // Written ahead (while the trainer logs the step), once; the idle servers (both: step 1's one
    // request is done) load it; the sync that needs version 1 then has nothing left to do.
    await tick(20);
    expect(saves).toEqual(["v0", "v1"]);
    await remote.generate([request("d")], options, { step: 1 });
    expect(saves).toEqual(["v0", "v1"]);
    expect(log.filter((line) => line.includes("load"))).toEqual([
      "A load v0",
      "B load v0",
      "A load v1",
      "B load v1",
    ]);
    await remote.close();
  });
});

/**
 * A server that logs what it is asked (`generate <prompt>`, `score <prompt>`), answers the
 * `reference_model` extension when `inline`, and holds each generation until `release` is called
 * when `held`.
 */
const scoringServer = (url: string, log: string[], settings: { inline: boolean; held?: boolean }) => {
  const waiting: Array<() => void> = [];
  const client: RolloutServerClient = {
    url,
    updateWeightsFromDisk: async (_path, weightVersion) => {
      log.push(`${url} load v${weightVersion}`);
    },
    generate: async (_model, item, generation, scoring) => {
      log.push(
        `${url} generate ${item.promptId}${scoring?.referenceModel === undefined ? "" : " +reference"}`,
      );
      if (settings.held === true) await new Promise<void>((resolve) => waiting.push(resolve));
      return {
        choices: Array.from({ length: generation.n }, (_, index) => ({
          tokenIds: [index, 7],
          logprobs: [-0.5, -0.25],
          text: String(index),
          finishReason: "stop" as const,
          ...(settings.inline && scoring?.referenceModel !== undefined
            ? { referenceLogprobs: [-1 - index, -2] }
            : {}),
        })),
        promptTokenIds: [1],
        imageUuids: [],
      };
    },
    scoreResponses: async (_model, _prompt, responses) => {
      log.push(`${url} score`);
      return responses.map((response) => response.map((token) => -3 - token));
    },
    loadLoraAdapter: async () => undefined,
    unloadLoraAdapter: async () => undefined,
    healthy: async () => true,
    modelIds: async () => ["policy"],
  };
  const release = () => {
    for (const resolve of waiting.splice(0)) resolve();
  };
  return { client, release, waiting };
};

const policyStub = {
  save: async (directory: string) => {
    await mkdir(directory, { recursive: true });
  },
} as unknown as TrainablePolicy;

const remoteOf = (clients: ReadonlyArray<RolloutServerClient>, extra: Record<string, unknown> = {}) =>
  remoteRolloutSource({
    clients,
    policy: policyStub,
    weightSync: "disk",
    baseModel: "policy",
    referenceModel: "policy-reference",
    syncDirectory: mkdtempSync(join(tmpdir(), "apo-remote-dispatch-")),
    ...extra,
  });

describe("remoteRolloutSource reference scoring", () => {
  it("takes the reference log-probs a server returns with the sampling; scores them apart on a server that ignores the field, and stops asking it", async () => {
    const log: string[] = [];
    const inline = scoringServer("A", log, { inline: true });
    const remote = remoteOf([inline.client]);
    const batch = await remote.generate([request("a")], options, { step: 0, reference: true });
    expect(log).toEqual(["A load v0", "A generate a +reference"]);
    expect(batch.referenceLogprobs).toEqual([
      [-1, -2],
      [-2, -2],
    ]);
    await remote.close();

    const ignoring: string[] = [];
    const plain = scoringServer("B", ignoring, { inline: false });
    const fallback = remoteOf([plain.client]);
    const first = await fallback.generate([request("a")], options, { step: 0, reference: true });
    // Asked once; it answered without them: scored by a request of their own, then never asked again.
    const second = await fallback.generate([request("b")], options, { step: 1, reference: true });
    expect(ignoring).toEqual([
      "B load v0",
      "B generate a +reference",
      "B score",
      "B load v1",
      "B generate b",
      "B score",
    ]);
    for (const scored of [first, second])
      expect(scored.referenceLogprobs).toEqual([
        [-3, -10],
        [-4, -10],
      ]);
    await fallback.close();
  });
});

describe("remoteRolloutSource dispatch", () => {
  it("spread: a step's groups go to the least-loaded servers in turn", async () => {
    const log: string[] = [];
    const remote = remoteOf([
      scoringServer("A", log, { inline: true }).client,
      scoringServer("B", log, { inline: true }).client,
    ]);
    const batch = await remote.generate(["a", "b", "c", "d"].map(request), options, {
      step: 0,
      reference: true,
    });
    expect(batch.record!.assignments.map((assignment) => assignment.server)).toEqual(["A", "B", "A", "B"]);
    await remote.close();
  });

  it("pack: all of a step's groups go to one server, the servers taking turns step by step; a failed server's pack moves whole to another", async () => {
    const log: string[] = [];
    const servers = ["A", "B", "C"].map((url) => scoringServer(url, log, { inline: true }).client);
    const remote = remoteOf(servers, { dispatch: "pack" });
    const serversOf = async (step: number, prompts: ReadonlyArray<string>) => {
      const batch = await remote.generate(prompts.map(request), options, { step, reference: true });
      expect(batch.rollouts.map((rollout) => rollout.promptId)).toEqual(
        prompts.flatMap((prompt) => [prompt, prompt]),
      );
      return batch.record!.assignments.map((assignment) => assignment.server);
    };
    expect(await serversOf(0, ["a", "b", "c"])).toEqual(["A", "A", "A"]);
    expect(await serversOf(1, ["d", "e", "f"])).toEqual(["B", "B", "B"]);
    expect(await serversOf(2, ["g", "h", "i"])).toEqual(["C", "C", "C"]);
    expect(await serversOf(3, ["j", "k", "l"])).toEqual(["A", "A", "A"]);
    // B fails on its next pack: every group of the step is sampled once, all on one other server.
    const failing = servers[1]!;
    servers[1] = {
      ...failing,
      generate: async () => {
        throw new Error("connection refused");
      },
    };
    const failover = remoteOf(servers, { dispatch: "pack" });
    await failover.generate([request("x")], options, { step: 0, reference: true });
    const batch = await failover.generate(["m", "n", "o"].map(request), options, {
      step: 1,
      reference: true,
    });
    const assigned = batch.record!.assignments;
    expect(new Set(assigned.map((assignment) => assignment.server)).size).toBe(1);
    expect(assigned[0]!.server).not.toBe("B");
    expect(assigned.every((assignment) => assignment.attempts === 2)).toBe(true);
    expect(batch.record!.retries).toBe(3);
    expect(batch.rollouts.map((rollout) => rollout.promptId)).toEqual(["m", "m", "n", "n", "o", "o"]);
    await remote.close();
    await failover.close();
  });

  it("rollouts sampled ahead (rollout.async) are all requested at once, beyond maxInFlightPerServer", async () => {
    const log: string[] = [];
    const held = scoringServer("A", log, { inline: true, held: true });
    const remote = remoteOf([held.client], { maxInFlightPerServer: 1 });
    const next = ["b", "c", "d"].map(request);
    remote.schedule!(next, options, { step: 1 });
    const current = remote.generate([request("a")], options, { step: 0, reference: true });
    await tick();
    held.release();
    await current;
    // Step 1's three requests left before step 0's rollouts were handed over: the trainer cannot
    // send more while it trains.
    await tick();
    expect(held.waiting).toHaveLength(3);
    expect(log.filter((line) => line.includes("generate")).slice(1)).toEqual([
      "A generate b +reference",
      "A generate c +reference",
      "A generate d +reference",
    ]);
    held.release();
    const ahead = await remote.generate(next, options, { step: 1, reference: true });
    expect(ahead.record!.staleness).toBe(1);
    expect(ahead.referenceLogprobs).toHaveLength(6);
    await remote.close();
  });
});

/** Servers A and B, both holding their generations until released, under `dispatch: pack`. */
const heldPack = () => {
  const log: string[] = [];
  const first = scoringServer("A", log, { inline: true, held: true });
  const second = scoringServer("B", log, { inline: true, held: true });
  return { log, first, second, remote: remoteOf([first.client, second.client], { dispatch: "pack" }) };
};

describe("remoteRolloutSource with rollout.async and dispatch: pack", () => {
  it("the idle server loads the new weights while the other samples ahead, and takes the next pack without waiting for a load", async () => {
    const { log, first, second, remote } = heldPack();
    remote.schedule!([request("b"), request("c")], options, { step: 1 });
    const step0 = remote.generate([request("a")], options, { step: 0, reference: true });
    await tick();
    first.release();
    await step0;
    await tick();
    // Step 0 on A; step 1's pack sampled ahead on B with version 0 while step 0 trains.
    expect(log).toEqual([
      "A load v0",
      "B load v0",
      "A generate a +reference",
      "B generate b +reference",
      "B generate c +reference",
    ]);
    // Step 0's update: version 1 is written, and A (idle) loads it at once; B is still sampling.
    remote.prepare!({ step: 1 });
    await tick();
    expect(log.slice(5)).toEqual(["A load v1"]);
    remote.schedule!([request("d")], options, { step: 2 });
    const step1 = remote.generate([request("b"), request("c")], options, { step: 1, reference: true });
    await tick();
    second.release();
    const batch = await step1;
    await tick();
    // Step 2's pack goes to A, which holds version 1 already; B loads it afterwards.
    expect(log.slice(6)).toEqual(["A generate d +reference", "B load v1"]);
    expect(batch.record!.weightVersion).toBe(0);
    expect(batch.record!.staleness).toBe(1);
    first.release();
    const step2 = await remote.generate([request("d")], options, { step: 2, reference: true });
    expect(
      step2.record!.assignments.map((assignment) => [assignment.server, assignment.weightVersion]),
    ).toEqual([["A", 1]]);
    expect(step2.record!.staleness).toBe(1);
    await remote.close();
  });
});

describe("remoteRolloutSource: requests sent together stay within a server's queue", () => {
  it("a pack of 70 groups holds at most 64 requests on its server at once (apo-serve's default --max-queue); the rest follow as answers come back, on the same server", async () => {
    const { first: held, second: other, remote } = heldPack();
    const prompts = Array.from({ length: 70 }, (_, index) => request(`p${index}`));
    const batch = remote.generate(prompts, options, { step: 0, reference: true });
    await tick(10);
    expect(held.waiting).toHaveLength(64);
    expect(other.waiting).toHaveLength(0);
    while (held.waiting.length > 0) {
      held.release();
      await tick();
    }
    const sampled = await batch;
    expect(new Set(sampled.record!.assignments.map((assignment) => assignment.server))).toEqual(
      new Set(["A"]),
    );
    expect(sampled.rollouts).toHaveLength(140);
    await remote.close();
  });
});
