import {
  assertFitsBackend,
  createLoraAdapter,
  decodeQwen25VLConfig,
  estimateQwen25VLMemory,
  type GenerationPrompt,
  generateTokens,
  initQwen25VL,
  type Qwen25VLConfig,
  type Qwen25VLModel,
  scoreResponses,
} from "@apo-rl/qwen-vl";
import { initBackend } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import type { BenchmarkOutcome } from "../output.js";

/**
 * Settings of {@link runGeneratePerf}.
 *
 * @since 0.1.0
 * @category perf
 */
export interface GeneratePerfOptions {
  /** Shorter prompts and responses, one timed run per case. */
  readonly quick?: boolean;
  /** Which models to run. Default both. */
  readonly models?: ReadonlyArray<"fixture" | "qwen2.5-0.5b">;
  /** Prompt tokens. Default 64, or 16 when `quick`. */
  readonly promptLength?: number;
  /** New tokens per rollout (no EOS: every rollout runs to the budget). Default 32, or 8 when `quick`. */
  readonly maxNewTokens?: number;
  readonly onProgress?: (line: string) => void;
}

/**
 * One measured case: a `generate` call (`prompts × samples` rollouts) or a training log-prob pass
 * over those rollouts (forward only, or forward + LoRA gradient).
 *
 * @since 0.1.0
 * @category perf
 */
export interface GeneratePerfRow {
  readonly model: string;
  readonly kind: "generate" | "logprobs" | "logprobs+gradient";
  readonly backend: string;
  readonly parameters: number;
  readonly prompts: number;
  readonly samples: number;
  readonly promptLength: number;
  readonly newTokens: number;
  readonly seconds: number;
  /** generate: generated tokens per second; logprobs: response tokens scored per second. */
  readonly tokensPerSecond: number;
  /** logprobs: milliseconds per response token. */
  readonly millisecondsPerToken: number;
}

const fixtureConfig = decodeQwen25VLConfig({
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 512,
  image_token_id: 500,
  video_token_id: 501,
  vision_start_token_id: 502,
  vision_end_token_id: 503,
  rope_scaling: { type: "default", mrope_section: [2, 3, 3] },
  vision_config: { depth: 4, hidden_size: 32, intermediate_size: 64, num_heads: 2, out_hidden_size: 64 },
});

/** Qwen2.5-0.5B's text shape (896 wide, 24 layers, 14/2 heads, tied 151936 vocabulary). */
const qwen05BConfig = decodeQwen25VLConfig({
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  vocab_size: 151936,
  tie_word_embeddings: true,
  rope_scaling: { type: "mrope", mrope_section: [8, 12, 12] },
  vision_config: { out_hidden_size: 896 },
});

/** wasm when the float32 weights fit its 4 GiB heap (with room for activations), else cpu. */
const chooseBackend = async (config: Qwen25VLConfig): Promise<string> => {
  try {
    assertFitsBackend("wasm", estimateQwen25VLMemory(config, "text").weightBytes);
    await initBackend("wasm");
    return "wasm";
  } catch {
    await initBackend("cpu");
    return "cpu";
  }
};

const prompt = (length: number, seed: number): GenerationPrompt => ({
  inputIds: Array.from({ length }, (_, index) => (seed * 7919 + index * 104729) % 500),
});

interface Context {
  readonly name: string;
  readonly model: Qwen25VLModel;
  readonly backend: string;
  readonly promptLength: number;
  readonly maxNewTokens: number;
}

const rowOf = (
  context: Context,
  kind: GeneratePerfRow["kind"],
  prompts: number,
  samples: number,
  tokens: number,
  seconds: number,
): GeneratePerfRow => ({
  model: context.name,
  kind,
  backend: context.backend,
  parameters: estimateQwen25VLMemory(context.model.config, "text").parameterCount,
  prompts,
  samples,
  promptLength: context.promptLength,
  newTokens: context.maxNewTokens,
  seconds,
  tokensPerSecond: tokens / seconds,
  millisecondsPerToken: (1000 * seconds) / tokens,
});

const timed = <T>(run: () => T): { value: T; seconds: number } => {
  const start = performance.now();
  const value = run();
  return { value, seconds: (performance.now() - start) / 1000 };
};

/** One `generate` call, then (if `score`) the training log-prob pass over its rollouts (forward, then with gradient). */
const cases = (context: Context, prompts: number, samples: number, score: boolean): GeneratePerfRow[] => {
  const inputs = Array.from({ length: prompts }, (_, index) => prompt(context.promptLength, index + 1));
  const generation = timed(() =>
    generateTokens(context.model, inputs, {
      n: samples,
      temperature: 1,
      maxNewTokens: context.maxNewTokens,
      seed: 0,
      eosTokenIds: [],
      padTokenId: 0,
    }),
  );
  const sequences = generation.value;
  const generated = sequences.reduce((sum, sequence) => sum + sequence.tokenIds.length, 0);
  const rows = [rowOf(context, "generate", prompts, samples, generated, generation.seconds)];
  if (!score) return rows;
  const scoredPrompts = sequences.map((sequence) => inputs[sequence.promptIndex]!);
  const responses = sequences.map((sequence) => sequence.tokenIds);
  const scoreAll = () =>
    scoreResponses(context.model, scoredPrompts, responses, { temperature: 1, padTokenId: 0, entropy: true });
  const forward = timed(() => {
    const result = scoreAll();
    result.logp.dataSync();
    tf.dispose([result.logp, result.mask, result.entropy!]);
  });
  rows.push(rowOf(context, "logprobs", prompts, samples, generated, forward.seconds));
  const variables = [...(context.model.linearAdapter as { variables(): tf.Variable[] }).variables()];
  const backward = timed(() => {
    const { value, grads } = tf.variableGrads(() => {
      const result = scoreAll();
      return tf.sum(tf.mul(result.logp, result.mask)) as tf.Scalar;
    }, variables);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  });
  rows.push(rowOf(context, "logprobs+gradient", prompts, samples, generated, backward.seconds));
  return rows;
};

const table = (rows: ReadonlyArray<GeneratePerfRow>): string =>
  [
    "| model | case | backend | prompts × samples | prompt / new tokens | seconds | tokens/s | ms/token |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (row) =>
        `| ${row.model} (${(row.parameters / 1e6).toFixed(1)} M) | ${row.kind} | ${row.backend} | ${row.prompts} × ${row.samples} | ${row.promptLength} / ${row.newTokens} | ${row.seconds.toFixed(2)} | ${row.tokensPerSecond.toFixed(1)} | ${row.millisecondsPerToken.toFixed(2)} |`,
    ),
  ].join("\n");

/**
 * Rollout throughput of the KV-cached sampler (`generateTokens`, temperature 1, no EOS so every
 * rollout runs to the budget) for 1 prompt × 8 samples and 8 prompts × 8 samples, and the cost per
 * response token of the training log-prob pass over those rollouts (`scoreResponses`: forward, and
 * forward + gradient of rank-8 LoRA adapters on every projection; with `quick`, measured on the
 * 1 × 8 batch only for the 0.5B model). Models: the fixture's tiny
 * Qwen2.5-VL and a Qwen2.5-0.5B-sized text decoder, random weights, wasm when the weights fit.
 *
 * @since 0.1.0
 * @category perf
 */
export const runGeneratePerf = async (options: GeneratePerfOptions = {}): Promise<BenchmarkOutcome> => {
  const quick = options.quick === true;
  const promptLength = options.promptLength ?? (quick ? 16 : 64);
  const maxNewTokens = options.maxNewTokens ?? (quick ? 8 : 32);
  const models = options.models ?? ["fixture", "qwen2.5-0.5b"];
  const progress = options.onProgress ?? (() => {});
  const rows: GeneratePerfRow[] = [];
  const configs = [
    ["fixture", "fixture", fixtureConfig],
    ["qwen2.5-0.5b", "Qwen2.5-0.5B text", qwen05BConfig],
  ] as const;
  for (const [key, name, config] of configs) {
    if (!models.includes(key)) continue;
    const backend = await chooseBackend(config);
    const model = initQwen25VL(config, { seed: 0, parts: "text" });
    const adapter = createLoraAdapter(model, { rank: 8, alpha: 16, seed: 0 });
    try {
      const context = { name, model, backend, promptLength, maxNewTokens };
      if (!quick) cases({ ...context, maxNewTokens: 2 }, 1, 2, true); // warm-up: kernels compiled, buffers allocated
      for (const [prompts, samples] of [
        [1, 8],
        [8, 8],
      ] as const) {
        // The training pass costs the same per token at any batch; quick mode measures it on 1 × 8 only.
        const score = !quick || prompts === 1 || key === "fixture";
        for (const row of cases(context, prompts, samples, score)) {
          rows.push(row);
          progress(`${name} ${row.kind} ${prompts}×${samples}: ${row.seconds.toFixed(2)} s on ${backend}`);
        }
      }
    } finally {
      adapter.dispose();
      model.dispose();
    }
  }
  return { results: { settings: { quick, promptLength, maxNewTokens, models }, rows }, table: table(rows) };
};
