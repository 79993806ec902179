import { Effect, Layer } from "effect";
import { describe, expect, it } from "vitest";
import { Qwen25VL, QwenVLPolicyService, QwenVLProcessor } from "../../src/index.js";
import { useBackend } from "../model/support/backend.js";
import { fixtureDirectory, loadFixture } from "../model/support/fixtures.js";
import { fixtureProcessorDirectory, imageRequest, PLAIN_TEMPLATE } from "./support/fixturePolicy.js";

describe("QwenVLPolicyService", () => {
  it("is keyed @apo-rl/qwen-vl/QwenVLPolicy and builds a working policy from the model and processor layers", async () => {
    await useBackend("cpu");
    expect(QwenVLPolicyService.key).toBe("@apo-rl/qwen-vl/QwenVLPolicy");
    const layer = QwenVLPolicyService.layer({ lora: { rank: 2, alpha: 4 } }).pipe(
      Layer.provide(Qwen25VL.layer(fixtureDirectory("image"))),
      Layer.provide(
        QwenVLProcessor.layer(fixtureProcessorDirectory(), {
          chatTemplate: PLAIN_TEMPLATE,
          imageDirectory: fixtureDirectory("image"),
        }),
      ),
    );
    const program = Effect.gen(function* () {
      const policy = yield* QwenVLPolicyService;
      expect(policy.name).toBe("qwen2.5-vl-lora");
      return yield* Effect.promise(() =>
        policy.generate([imageRequest()], { n: 1, temperature: 0, maxNewTokens: 3, seed: 0 }),
      );
    });
    const rollouts = await Effect.runPromise(Effect.scoped(Effect.provide(program, layer)));
    // B = 0: the fresh adapters leave the fixture's greedy continuation unchanged.
    expect(rollouts[0]!.tokenIds).toEqual(loadFixture("image").greedy_new_ids.slice(0, 3));
  });
});
