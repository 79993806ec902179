import {
  assertFitsBackend,
  decodeQwen25VLConfig,
  disposeQwen25VLCache,
  estimateQwen25VLMemory,
  initQwen25VL,
  type Qwen25VLConfig,
  type Qwen25VLModel,
  type Qwen25VLParts,
} from "@apo-rl/qwen-vl";
import { initBackend } from "@apo-rl/tensor";
import * as tf from "@tensorflow/tfjs-core";
import type { BenchmarkOutcome } from "../output.js";
import { median } from "../statistics.js";
import { qwen05BConfig } from "./benchModels.js";
import { requestedBackend } from "./requestedBackend.js";

/**
 * Settings of {@link runModelPerf}.
 *
 * @since 0.1.0
 * @category perf
 */
export interface ModelPerfOptions {
  /** One timed run per case, no warm-up for the large models, fewer decode steps. */
  readonly quick?: boolean;
  /** Prompt lengths of the forward cases. Default `[128, 1024]`. */
  readonly promptLengths?: ReadonlyArray<number>;
  /** Timed runs per case (the median is reported). Default 3, or 1 when `quick`. */
  readonly repeats?: number;
  /** Decoding steps measured after a 128-token prefill. Default 16, or 8 when `quick`. */
  readonly decodeSteps?: number;
  /** Which models to run. Default all three. */
  readonly models?: ReadonlyArray<"fixture" | "qwen2.5-0.5b" | "vision-3b">;
  /** Called with a line of progress for each measured case. */
  readonly onProgress?: (line: string) => void;
}

/**
 * One measured case.
 *
 * @since 0.1.0
 * @category perf
 */
export interface ModelPerfRow {
  readonly model: string;
  /** `forward` (prefill, last-position logits), `decode` (KV-cached, one token a step) or `vision`. */
  readonly kind: "forward" | "decode" | "vision";
  readonly backend: string;
  /** Why this backend: the model fits the 4 GiB wasm heap, or it does not. */
  readonly backendReason: string;
  readonly parameters: number;
  readonly weightBytes: number;
  /** Prompt tokens (forward, decode prefill) or vision patches. */
  readonly length: number;
  /** Median seconds of one forward, one decode step, or one image. */
  readonly seconds: number;
  /** Tokens (forward, decode) or patches (vision) per second. */
  readonly throughput: number;
  /** Highest bytes held by tfjs during one run, weights included. */
  readonly peakBytes: number;
  readonly runs: number;
}

/** The fixture's tiny model (random weights of the same shapes). */
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
  vision_config: {
    depth: 4,
    hidden_size: 32,
    intermediate_size: 64,
    num_heads: 2,
    out_hidden_size: 64,
    fullatt_block_indexes: [1, 3],
    window_size: 56,
  },
});

const qwen05B = qwen05BConfig();

/** Qwen2.5-VL-3B's vision tower (32 blocks of 1280, merger to 2048). */
const vision3BConfig = decodeQwen25VLConfig({
  hidden_size: 2048,
  num_attention_heads: 16,
  num_key_value_heads: 2,
  rope_scaling: { type: "mrope", mrope_section: [16, 24, 24] },
  vision_config: { hidden_size: 1280, out_hidden_size: 2048 },
});

const chooseBackend = async (config: Qwen25VLConfig, parts: Qwen25VLParts) => {
  const requested = await requestedBackend();
  if (requested !== undefined) return requested;
  const bytes = estimateQwen25VLMemory(config, parts).weightBytes;
  try {
    assertFitsBackend("wasm", bytes);
    await initBackend("wasm");
    return {
      backend: "wasm",
      reason: `${(bytes / 2 ** 30).toFixed(2)} GiB of weights fit the 4 GiB wasm heap`,
    };
  } catch (error) {
    await initBackend("cpu");
    return { backend: "cpu", reason: `not wasm: ${(error as Error).message}` };
  }
};

/** Seconds of each timed run, and the peak bytes of one profiled run. */
const measure = async (run: () => Promise<void>, repeats: number, warmup: boolean) => {
  if (warmup) await run();
  const profile = await tf.profile(run);
  const seconds: number[] = [];
  for (let index = 0; index < repeats; index++) {
    const start = performance.now();
    await run();
    seconds.push((performance.now() - start) / 1000);
  }
  return { seconds: median(seconds) ?? 0, peakBytes: profile.peakBytes, runs: repeats };
};

/** Ordinary token ids: below the special ids (the fixture's start at 500, Qwen's at 151643). */
const ordinaryIds = (vocab: number) => (vocab <= 512 ? 500 : Math.min(vocab, 151643));

const tokenRow = (length: number, vocab: number, seed: number) =>
  Array.from({ length }, (_, index) => (seed * 7919 + index * 104729) % ordinaryIds(vocab));

interface CaseContext {
  readonly name: string;
  readonly model: Qwen25VLModel;
  readonly backend: { backend: string; reason: string };
  readonly repeats: number;
  readonly warmup: boolean;
}

const rowOf = (context: CaseContext, kind: ModelPerfRow["kind"], length: number, units: number) => {
  const estimate = estimateQwen25VLMemory(context.model.config, context.model.parts);
  return (result: { seconds: number; peakBytes: number; runs: number }): ModelPerfRow => ({
    model: context.name,
    kind,
    backend: context.backend.backend,
    backendReason: context.backend.reason,
    parameters: estimate.parameterCount,
    weightBytes: estimate.weightBytes,
    length,
    seconds: result.seconds,
    throughput: units / result.seconds,
    peakBytes: result.peakBytes,
    runs: result.runs,
  });
};

const forwardCase = async (context: CaseContext, length: number): Promise<ModelPerfRow> => {
  const inputIds = [tokenRow(length, context.model.config.text.vocabSize, 1)];
  const run = async () => {
    const output = context.model.forward({ inputIds }, { logits: "last" });
    await output.logits!.data();
    tf.dispose([output.hiddenStates, output.logits!]);
  };
  return rowOf(context, "forward", length, length)(await measure(run, context.repeats, context.warmup));
};

const decodeCase = async (context: CaseContext, steps: number): Promise<ModelPerfRow> => {
  const prefill = context.model.forward(
    { inputIds: [tokenRow(128, context.model.config.text.vocabSize, 2)] },
    { logits: "last", cache: true },
  );
  tf.dispose([prefill.hiddenStates, prefill.logits!]);
  const run = async () => {
    let cache = prefill.cache!;
    for (let step = 0; step < steps; step++) {
      const output = context.model.forward(
        { inputIds: [[(step * 31) % ordinaryIds(context.model.config.text.vocabSize)]] },
        { logits: "last", cache },
      );
      await output.logits!.data();
      tf.dispose([output.hiddenStates, output.logits!]);
      if (cache !== prefill.cache) disposeQwen25VLCache(cache);
      cache = output.cache!;
    }
    disposeQwen25VLCache(cache);
  };
  const result = await measure(run, context.repeats, context.warmup);
  disposeQwen25VLCache(prefill.cache!);
  return rowOf(context, "decode", 128, 1)({ ...result, seconds: result.seconds / steps });
};

const visionCase = async (context: CaseContext, side: number): Promise<ModelPerfRow> => {
  const grid = [[1, side / 14, side / 14]];
  const patches = (side / 14) ** 2;
  const pixels = new Float32Array(patches * 1176).map((_, index) => Math.sin(index * 0.37));
  const run = async () => {
    const { imageEmbeds } = context.model.encodeImages(pixels, grid);
    await imageEmbeds.data();
    imageEmbeds.dispose();
  };
  return rowOf(context, "vision", patches, patches)(await measure(run, context.repeats, context.warmup));
};

const withModel = async <T>(
  config: Qwen25VLConfig,
  parts: Qwen25VLParts,
  body: (model: Qwen25VLModel, backend: { backend: string; reason: string }) => Promise<T>,
): Promise<T> => {
  const backend = await chooseBackend(config, parts);
  const model = initQwen25VL(config, { seed: 0, parts });
  try {
    return await body(model, backend);
  } finally {
    model.dispose();
  }
};

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

const table = (rows: ReadonlyArray<ModelPerfRow>): string =>
  [
    "| model | case | backend | length | seconds | throughput | peak tfjs memory |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ...rows.map((row) => {
      const unit = row.kind === "vision" ? "patches/s" : "tokens/s";
      const what = row.kind === "vision" ? `${row.length} patches` : `${row.length} tokens`;
      return `| ${row.model} (${(row.parameters / 1e6).toFixed(1)} M params) | ${row.kind} | ${row.backend} | ${what} | ${row.seconds.toFixed(4)} | ${row.throughput.toFixed(1)} ${unit} | ${mib(row.peakBytes)} |`;
    }),
  ].join("\n");

/**
 * Forward and decoding throughput and peak tfjs memory of Qwen2.5-VL models with random weights:
 * the fixture's tiny model and a Qwen2.5-0.5B-sized text decoder at each prompt length (forward =
 * prefill with last-position logits; decode = KV-cached steps after a 128-token prefill), and the
 * 3B vision tower encoding one 448×448 image. Each model runs on wasm when its float32 weights fit
 * the 4 GiB heap, else on cpu; every row says which and why.
 *
 * @since 0.1.0
 * @category perf
 */
export const runModelPerf = async (options: ModelPerfOptions = {}): Promise<BenchmarkOutcome> => {
  const quick = options.quick === true;
  const repeats = options.repeats ?? (quick ? 1 : 3);
  const lengths = options.promptLengths ?? [128, 1024];
  const steps = options.decodeSteps ?? (quick ? 8 : 16);
  const models = options.models ?? ["fixture", "qwen2.5-0.5b", "vision-3b"];
  const progress = options.onProgress ?? (() => {});
  const rows: ModelPerfRow[] = [];
  const record = (row: ModelPerfRow) => {
    rows.push(row);
    progress(`${row.model} ${row.kind} ${row.length}: ${row.seconds.toFixed(4)} s on ${row.backend}`);
  };
  const textCases = async (name: string, config: Qwen25VLConfig, parts: Qwen25VLParts, warmup: boolean) =>
    withModel(config, parts, async (model, backend) => {
      const context = { name, model, backend, repeats, warmup };
      for (const length of lengths) record(await forwardCase(context, length));
      record(await decodeCase(context, steps));
    });
  if (models.includes("fixture")) await textCases("fixture", fixtureConfig, "all", true);
  if (models.includes("qwen2.5-0.5b")) await textCases("Qwen2.5-0.5B text", qwen05B, "text", !quick);
  if (models.includes("vision-3b")) {
    await withModel(vision3BConfig, "vision", async (model, backend) => {
      record(
        await visionCase({ name: "Qwen2.5-VL-3B vision", model, backend, repeats, warmup: !quick }, 448),
      );
    });
  }
  return { results: { settings: { quick, repeats, lengths, steps }, rows }, table: table(rows) };
};
