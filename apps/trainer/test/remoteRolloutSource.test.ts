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
      await new Promise((resolve) => setTimeout(resolve, 5));
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

  it("does nothing while the next step's rollouts are sampled ahead (rollout.async): generate syncs after them", async () => {
    const log: string[] = [];
    const { remote, saves } = source(log);
    remote.schedule!([request("c")], options, { step: 1 });
    await remote.generate([request("a")], options, { step: 0 });
    // Step 1's rollouts are being sampled with version 0 now; preparing version 1 must not interfere.
    remote.prepare!({ step: 1 });
    const next = await remote.generate([request("c")], options, { step: 1 });
    expect(next.record!.weightVersion).toBe(0);
    expect(next.record!.staleness).toBe(1);
    expect(saves).toEqual(["v0"]);
    await remote.close();
  });
});
