import { describe, expect, it } from "vitest";
import {
  activationBytesPerToken,
  assertTrainingStepFits,
  decodeQwen25VLConfig,
  estimateTrainingStepMemory,
  TrainingMemoryError,
} from "../../src/index.js";

// Qwen2.5-0.5B's text shape.
const config = decodeQwen25VLConfig({
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  vocab_size: 151_936,
  tie_word_embeddings: true,
  rope_scaling: { type: "mrope", mrope_section: [8, 12, 12] },
  vision_config: { out_hidden_size: 896 },
});

const refusal = (run: () => void): TrainingMemoryError => {
  try {
    run();
  } catch (error) {
    if (error instanceof TrainingMemoryError) return error;
    throw error;
  }
  throw new Error("expected a TrainingMemoryError");
};

describe("training memory model", () => {
  it("gives the hand-computed bytes per token with and without checkpointing", () => {
    // Checkpointed: 24 layers × 2.4·896 + (20·896 + 15·4864 + 2·14·64), float32.
    expect(activationBytesPerToken(config, 64)).toBeCloseTo(
      4 * (24 * 2.4 * 896 + 17_920 + 72_960 + 1_792),
      6,
    );
    // Stored: 24 × (30·896 + 25·4864 + 6·14·64).
    expect(activationBytesPerToken(config, 64, false)).toBe(4 * 24 * (26_880 + 121_600 + 5_376));
    expect(activationBytesPerToken(config, 64, false) / activationBytesPerToken(config, 64)).toBeGreaterThan(
      20,
    );
  });

  it("sums weights, optimizer state and the larger of activations and rollout cache", () => {
    const estimate = estimateTrainingStepMemory(config, {
      microBatchTokens: 128,
      sequenceLength: 32,
      rolloutRows: 4,
      rolloutLength: 32,
      trainableParameters: 1000,
    });
    expect(estimate.optimizerBytes).toBe(12_000);
    expect(estimate.activationBytes).toBe(128 * activationBytesPerToken(config, 32));
    expect(estimate.rolloutCacheBytes).toBe(4 * 32 * 24 * 2 * 2 * 64 * 4);
    expect(estimate.peakBytes).toBe(estimate.weightBytes + 12_000 + estimate.activationBytes);
    expect(estimate.retainedStateBytes).toBe(0);
  });

  it("adds the rollout's retained decoder states twice: 2 × (L + 1) × H float32 per token", () => {
    const shape = { microBatchTokens: 128, sequenceLength: 32, rolloutRows: 4, rolloutLength: 32 };
    const without = estimateTrainingStepMemory(config, shape);
    const retained = estimateTrainingStepMemory(config, { ...shape, retainedStateTokens: 128 });
    // 2 × 128 tokens × 25 states × 896 × 4 bytes.
    expect(retained.retainedStateBytes).toBe(22_937_600);
    expect(retained.peakBytes - without.peakBytes).toBe(22_937_600);
  });

  it("names rollout.retainStates when the step fits only without the retained states", () => {
    // 4400 tokens of states, counted twice ≈ 752 MiB: checkpointed activations of 3000 tokens plus the weights
    // fit the wasm heap, the states on top do not.
    const shape = { microBatchTokens: 3000, sequenceLength: 280 };
    expect(() => assertTrainingStepFits("wasm", estimateTrainingStepMemory(config, shape))).not.toThrow();
    const retained = estimateTrainingStepMemory(config, { ...shape, retainedStateTokens: 4400 });
    const error = refusal(() => assertTrainingStepFits("wasm", retained));
    expect(error.setting).toBe("rollout.retainStates");
    expect(error.message).toMatch(/retained rollout states 0\.73 GiB/);
    expect(
      refusal(() => assertTrainingStepFits("wasm", retained, { retainedStates: "--no-retain-states" }))
        .setting,
    ).toBe("--no-retain-states");
  });

  it("passes a step that fits and names the setting to lower for one that does not", () => {
    const small = estimateTrainingStepMemory(config, { microBatchTokens: 128, sequenceLength: 32 });
    expect(() => assertTrainingStepFits("wasm", small)).not.toThrow();
    expect(() => assertTrainingStepFits("webgpu", small)).not.toThrow();
    const large = estimateTrainingStepMemory(config, { microBatchTokens: 8192, sequenceLength: 512 });
    const error = refusal(() => assertTrainingStepFits("wasm", large, { microBatchTokens: "--prompts" }));
    expect(error.setting).toBe("--prompts");
    expect(error.requiredBytes).toBe(large.peakBytes);
    expect(error.message).toMatch(/tokens fit in one micro-batch/);
    const stored = estimateTrainingStepMemory(config, {
      microBatchTokens: 512,
      sequenceLength: 64,
      gradientCheckpointing: false,
    });
    expect(refusal(() => assertTrainingStepFits("wasm", stored, {}, false)).setting).toBe(
      "model.gradientCheckpointing",
    );
  });
});
