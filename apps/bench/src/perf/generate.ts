import {
  assertFitsBackend,
  createLoraAdapter,
  decodeQwen25VLConfig,
  estimateQwen25VLMemory,
  type GeneratedSequence,
  type GenerationPrompt,
  generateTokens,
  initQwen25VL,
  type LoraAdapter,
  type Qwen25VLConfig,
  type Qwen25VLModel,
  scoreResponses,
} from "@apo-rl/qwen-vl";
import { initBackend } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import type { BenchmarkOutcome } from "../output.js";
import { qwen05BConfig } from "./benchModels.js";
import { requestedBackend } from "./requestedBackend.js";

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
  /**
   * Rollouts per forward/backward of the training passes, gradients summed over the micro-batches
   * (as the trainer's `maxTokensPerMicroBatch` does). Default: all rollouts of the case at once, except 2
   * for the Qwen2.5-0.5B-sized model on wasm, whose saved activations for 8 rollouts do not fit
   * the 4 GiB heap next to its 1.9 GiB of weights.
   */
  readonly trainingMicroBatch?: number;
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
  /** Milliseconds per generated / scored response token. */
  readonly millisecondsPerToken: number;
  /** Training passes: rollouts per forward/backward (the pass covers all of them). */
  readonly microBatch?: number;
  /** Why the case could not run (its timings are then NaN). */
  readonly error?: string;
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

const qwen05B = qwen05BConfig();

/** wasm when the float32 weights fit its 4 GiB heap (with room for activations), else cpu. */
const chooseBackend = async (config: Qwen25VLConfig): Promise<string> => {
  const requested = await requestedBackend();
  if (requested !== undefined) return requested.backend;
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
  readonly adapter: LoraAdapter;
  readonly backend: string;
  readonly promptLength: number;
  readonly maxNewTokens: number;
  readonly trainingMicroBatch: number | undefined;
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

const timed = async <T>(run: () => T | Promise<T>): Promise<{ value: T; seconds: number }> => {
  const start = performance.now();
  const value = await run();
  return { value, seconds: (performance.now() - start) / 1000 };
};

interface Generated {
  readonly prompts: ReadonlyArray<GenerationPrompt>;
  readonly samples: number;
  readonly sequences: ReadonlyArray<GeneratedSequence>;
  readonly generated: number;
}

/** One timed `generate` call of `prompts × samples` rollouts. */
const generateCase = async (
  context: Context,
  prompts: number,
  samples: number,
): Promise<{ row: GeneratePerfRow; run: Generated }> => {
  const inputs = Array.from({ length: prompts }, (_, index) => prompt(context.promptLength, index + 1));
  const generation = await timed(() =>
    generateTokens(context.model, inputs, {
      n: samples,
      temperature: 1,
      maxNewTokens: context.maxNewTokens,
      seed: 0,
      eosTokenIds: [],
      padTokenId: 0,
    }),
  );
  const generated = generation.value.reduce((sum, sequence) => sum + sequence.tokenIds.length, 0);
  return {
    row: rowOf(context, "generate", prompts, samples, generated, generation.seconds),
    run: { prompts: inputs, samples, sequences: generation.value, generated },
  };
};

/** Element-wise sums of two gradient maps; disposes both. */
const addGradients = (total: tf.NamedTensorMap | undefined, next: tf.NamedTensorMap): tf.NamedTensorMap => {
  if (total === undefined) return next;
  const sum = Object.fromEntries(
    Object.entries(next).map(([name, value]) => [name, tf.add(total[name]!, value)]),
  );
  tf.dispose([...Object.values(total), ...Object.values(next)]);
  return sum;
};

/**
 * The training log-prob pass over generated rollouts, in micro-batches of rollouts: forward only,
 * or forward + LoRA gradient summed over the micro-batches.
 */
const scoreCase = async (context: Context, run: Generated, gradient: boolean): Promise<GeneratePerfRow> => {
  const prompts = run.sequences.map((sequence) => run.prompts[sequence.promptIndex]!);
  const responses = run.sequences.map((sequence) => sequence.tokenIds);
  const microBatch = Math.min(context.trainingMicroBatch ?? responses.length, responses.length);
  const score = (start: number) =>
    scoreResponses(
      context.model,
      prompts.slice(start, start + microBatch),
      responses.slice(start, start + microBatch),
      { temperature: 1, padTokenId: 0, entropy: true },
    );
  const pass = await timed(async () => {
    let gradients: tf.NamedTensorMap | undefined;
    try {
      for (let start = 0; start < responses.length; start += microBatch) {
        if (!gradient) {
          const result = score(start);
          await result.logp.data();
          tf.dispose([result.logp, result.mask, result.entropy!]);
          continue;
        }
        const { value, grads } = tf.variableGrads(() => {
          const result = score(start);
          return tf.sum(tf.mul(result.logp, result.mask)) as tf.Scalar;
        }, [...context.adapter.variables()]);
        await value.data();
        value.dispose();
        gradients = addGradients(gradients, grads);
      }
      if (gradients !== undefined) await Object.values(gradients)[0]?.data();
    } finally {
      if (gradients !== undefined) tf.dispose(Object.values(gradients));
    }
  });
  const kind = gradient ? "logprobs+gradient" : "logprobs";
  return {
    ...rowOf(context, kind, run.prompts.length, run.samples, run.generated, pass.seconds),
    microBatch,
  };
};

/** Run a case; a failure (e.g. the wasm heap running out) is recorded instead of ending the run. */
const attempt = async (
  context: Context,
  kind: GeneratePerfRow["kind"],
  run: Generated,
  body: () => Promise<GeneratePerfRow>,
): Promise<GeneratePerfRow> => {
  try {
    return await body();
  } catch (error) {
    return {
      ...rowOf(context, kind, run.prompts.length, run.samples, run.generated, Number.NaN),
      error: (error as Error).message,
    };
  }
};

const table = (rows: ReadonlyArray<GeneratePerfRow>): string =>
  [
    "| model | case | backend | prompts × samples | prompt / new tokens | rollouts per pass | seconds | tokens/s | ms/token |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (row) =>
        `| ${row.model} (${(row.parameters / 1e6).toFixed(1)} M) | ${row.kind} | ${row.backend} | ${row.prompts} × ${row.samples} | ${row.promptLength} / ${row.newTokens} | ${row.microBatch ?? "–"} | ${row.error === undefined ? row.seconds.toFixed(2) : `failed: ${row.error}`} | ${row.tokensPerSecond.toFixed(1)} | ${row.millisecondsPerToken.toFixed(2)} |`,
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
  const record = (row: GeneratePerfRow) => {
    rows.push(row);
    progress(
      `${row.model} ${row.kind} ${row.prompts}×${row.samples}: ${row.error ?? `${row.seconds.toFixed(2)} s`} on ${row.backend}`,
    );
  };
  const configs = [
    ["fixture", "fixture", fixtureConfig],
    ["qwen2.5-0.5b", "Qwen2.5-0.5B text", qwen05B],
  ] as const;
  for (const [key, name, config] of configs) {
    if (!models.includes(key)) continue;
    const backend = await chooseBackend(config);
    const model = initQwen25VL(config, { seed: 0, parts: "text" });
    const adapter = createLoraAdapter(model, { rank: 8, alpha: 16, seed: 0 });
    const trainingMicroBatch =
      options.trainingMicroBatch ?? (key === "qwen2.5-0.5b" && backend === "wasm" ? 2 : undefined);
    try {
      const context = { name, model, adapter, backend, promptLength, maxNewTokens, trainingMicroBatch };
      if (!quick) await generateCase({ ...context, maxNewTokens: 2 }, 1, 2); // warm-up: kernels compiled
      const runs: Generated[] = [];
      for (const [prompts, samples] of [
        [1, 8],
        [8, 8],
      ] as const) {
        const { row, run } = await generateCase(context, prompts, samples);
        record(row);
        runs.push(run);
      }
      // The training pass costs about the same per token at any batch; quick mode scores 1 × 8 only
      // for the 0.5B model. Gradients last: they need the most memory.
      const scored = quick && key !== "fixture" ? runs.slice(0, 1) : runs;
      for (const run of scored)
        record(await attempt(context, "logprobs", run, () => scoreCase(context, run, false)));
      for (const run of scored)
        record(await attempt(context, "logprobs+gradient", run, () => scoreCase(context, run, true)));
    } finally {
      adapter.dispose();
      model.dispose();
    }
  }
  return {
    results: {
      settings: {
        quick,
        promptLength,
        maxNewTokens,
        models,
        trainingMicroBatch: options.trainingMicroBatch ?? null,
      },
      rows,
    },
    table: table(rows),
  };
};
