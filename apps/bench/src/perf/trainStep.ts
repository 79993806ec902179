/**
 * `apo-bench perf train-step`: one full RL step of the trainer, timed phase by phase.
 *
 * The step is `@apo-rl/trainer`'s `runTrainingStep` itself, timed through its per-phase hooks:
 * rollout (`policy.generate`, `G` responses per prompt), reward (verification and advantages),
 * reference log-probs (no gradient), the policy's log-probs with the objective's loss under
 * `tf.variableGrads` (forward + backward), then global-norm clipping and an AdamW update. To split
 * forward from backward, a hook runs one extra policy log-prob pass without a gradient; its time is
 * the `forward` column, `backward` is `forward + backward − forward`, and the extra pass is not part
 * of the step, whose time is the step's own clock.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { PolicyBatch } from "@apo-rl/core";
import { syntheticCountingTask } from "@apo-rl/datasets";
import { createObjective } from "@apo-rl/objectives";
import {
  assertTrainingStepFits,
  createQwenVLPolicy,
  estimateTrainingStepMemory,
  initQwen25VL,
  loadQwenVLProcessor,
  type QwenVLPolicy,
  type QwenVLProcessorShape,
} from "@apo-rl/qwen-vl";
import { type HeapMeter, initBackend, startHeapMeter, wasmHeapBytes, wasmThreads } from "@apo-rl/tensor";
import {
  AdamW,
  type BatchVerifier,
  runTrainingStep,
  type StepPhase,
  type TrainingExample,
  toTrainingExample,
} from "@apo-rl/trainer";
import * as tf from "@tensorflow/tfjs-core";
import type { BenchmarkOutcome } from "../output.js";
import { demoDirectories, type LoadedPolicy, loadPolicy } from "../policySource.js";
import { createRewardVerifier } from "../rewardVerifier.js";
import { median } from "../statistics.js";
import { qwen3BConfig, qwen05BConfig } from "./benchModels.js";
import { requestedBackend } from "./requestedBackend.js";

/**
 * The models of the train-step benchmark: the embedded demo's architecture (full fine-tuning, image
 * prompts of the synthetic task) and a Qwen2.5-0.5B-sized text decoder with random weights (LoRA,
 * text prompts).
 *
 * @since 0.1.0
 * @category perf
 */
export type TrainStepModel = "demo" | "qwen2.5-0.5b" | "qwen2.5-vl-3b";

const textDecoders = {
  "qwen2.5-0.5b": { config: qwen05BConfig, name: "Qwen2.5-0.5B-sized text decoder (random weights)" },
  "qwen2.5-vl-3b": { config: qwen3BConfig, name: "Qwen2.5-VL-3B-sized text decoder (random weights)" },
} as const;

/**
 * Settings of {@link runTrainStepPerf}.
 *
 * @since 0.1.0
 * @category perf
 */
export interface TrainStepPerfOptions {
  /** Tiny settings for CI: the demo model only, 2 prompts × 2 responses of 4 tokens, 1 timed step. */
  readonly quick?: boolean;
  /** Default `["demo", "qwen2.5-0.5b"]` (quick: `["demo"]`). */
  readonly models?: ReadonlyArray<TrainStepModel>;
  /** Timed steps per model; the median of each phase is reported. Default 3 (quick: 1). */
  readonly repeats?: number;
  /** Untimed steps first. Default 1 (quick: 0). */
  readonly warmup?: number;
  /** Prompts per step. Default 4 for the demo, 2 for 0.5B (quick: 2). */
  readonly prompts?: number;
  /** Responses per prompt `G`. Default 4 for the demo, 2 for 0.5B (quick: 2). */
  readonly groupSize?: number;
  /** Response budget in tokens. Default 32 for the demo, 8 for 0.5B (quick: 4). */
  readonly maxNewTokens?: number;
  /** The trainer's `train.maxTokensPerMicroBatch`; default: all rows in one pass. */
  readonly maxTokensPerMicroBatch?: number;
  /** LoRA rank of the 0.5B model (0 = full fine-tuning). Default 16. */
  readonly loraRank?: number;
  /** Activation checkpointing of the policy's model (`--no-gradient-checkpointing` turns it off). Default `true`. */
  readonly gradientCheckpointing?: boolean;
  /**
   * The trainer's `rollout.referenceInRollout`: a LoRA policy scores the reference log-probs in
   * twin rows of its rollout (`--no-reference-in-rollout`: a separate reference pass). Default `true`.
   */
  readonly referenceInRollout?: boolean;
  /**
   * The trainer's `rollout.retainStates`: a LoRA policy keeps its rollout's decoder states and the
   * loss pass starts from them (`--no-retain-states`: the pass runs its own forward). Default `true`.
   */
  readonly retainStates?: boolean;
  readonly onProgress?: (line: string) => void;
}

/**
 * Median seconds of each phase of one step.
 *
 * @since 0.1.0
 * @category perf
 */
export interface TrainStepPhases {
  readonly rollout: number;
  readonly reward: number;
  readonly referenceLogprobs: number;
  /**
   * The extra policy log-prob pass without a gradient (not part of `step`): a whole forward, also
   * when the loss pass starts from the rollout's retained states.
   */
  readonly forward: number;
  /**
   * Policy log-probs + objective loss + gradients under `tf.variableGrads` (with retained states:
   * no forward, the layers are recomputed in the backward).
   */
  readonly forwardBackward: number;
  /** `forwardBackward − forward` (with retained states `forwardBackward`: it runs no forward). */
  readonly backward: number;
  /** Global-norm clipping + AdamW. */
  readonly update: number;
  /** The step's own wall time (`record.stepSeconds`), measured around all its phases. */
  readonly step: number;
}

/**
 * One model's measurement.
 *
 * @since 0.1.0
 * @category perf
 */
export interface TrainStepPerfRow {
  readonly model: string;
  readonly backend: string;
  readonly backendReason: string;
  readonly parameters: number;
  readonly trainableParameters: number;
  readonly fineTuning: string;
  readonly prompts: number;
  readonly groupSize: number;
  readonly maxNewTokens: number;
  /** Median response tokens generated per step. */
  readonly generatedTokens: number;
  readonly phases: TrainStepPhases;
  /** Every timed step's phases, in order. */
  readonly runs: ReadonlyArray<TrainStepPhases>;
  /** Bytes held by tfjs after the last timed step: weights, reference, optimizer moments. */
  readonly bytesAfterStep: number;
  /** Median tokens per step: every row's prompt + response. */
  readonly tokens: number;
  /**
   * The wasm heap's size after the last timed step: its high-water mark (wasm memory only grows),
   * `null` off wasm.
   */
  readonly peakHeapBytes: number | null;
  /**
   * Median over timed steps of the forward + backward's peak allocation above what was held before
   * it, per token of its largest micro-batch (rows × padded length); `null` off wasm.
   */
  readonly activationBytesPerToken: number | null;
  /** The estimate the step was admitted with (see `estimateTrainingStepMemory`). */
  readonly estimatedPeakBytes: number;
  readonly gradientCheckpointing: boolean;
  /** Whether the reference log-probs were scored in the rollout (a LoRA policy's twin rows). */
  readonly referenceInRollout: boolean;
  /** Whether the loss pass started from the rollout's decoder states (`rollout.retainStates`). */
  readonly retainStates: boolean;
  /**
   * The wasm backend's thread count (`--wasm-threads`, `APO_WASM_THREADS`; 1 by default), `null`
   * off wasm.
   */
  readonly wasmThreads: number | null;
}

const parameterCount = (variables: ReadonlyArray<tf.Variable>) =>
  variables.reduce((sum, variable) => sum + variable.size, 0);

/** The demo tokenizer knows a few hundred words: random 0.5B weights sample ids beyond them, decoded as nothing. */
const boundedDecoding = (processor: QwenVLProcessorShape, vocabulary: number): QwenVLProcessorShape => ({
  ...processor,
  applyChatTemplate: (messages, options) => processor.applyChatTemplate(messages, options),
  processImages: (images, options) => processor.processImages(images, options),
  encode: (messages, images, options) => processor.encode(messages, images, options),
  encodeRequest: (request, options) => processor.encodeRequest(request, options),
  encodeText: (text, images, options) => processor.encodeText(text, images, options),
  decode: (ids, options) =>
    processor.decode(
      Array.from(ids).filter((id) => id < vocabulary),
      options,
    ),
});

interface Subject {
  readonly name: string;
  readonly loaded: LoadedPolicy;
  readonly examples: ReadonlyArray<TrainingExample>;
  readonly backend: string;
  readonly backendReason: string;
  readonly fineTuning: string;
  readonly parameters: number;
  readonly estimatedPeakBytes: number;
}

const demoSubject = async (prompts: number): Promise<Subject> => {
  const requested = await requestedBackend();
  if (requested === undefined) await initBackend("wasm");
  // Full fine-tuning of the decoder with the vision tower frozen, as `apo-train` trains the demo.
  const loaded = await loadPolicy("demo-init");
  const task = syntheticCountingTask({ trainSize: prompts, heldOutSize: 0, variant: "mixed" });
  return {
    name: "demo (Qwen2.5-VL architecture, 2 layers × 96)",
    loaded,
    examples: task.train.map(toTrainingExample),
    backend: requested?.backend ?? "wasm",
    backendReason: requested?.reason ?? "the demo runs on wasm",
    estimatedPeakBytes: 0,
    fineTuning: "full (vision tower frozen)",
    parameters: [...loaded.policy.model.parameters.values()].reduce((sum, v) => sum + v.size, 0),
  };
};

/** Prompt tokens of the step's text-only synthetic questions (chat template included), at most. */
const PROMPT_TOKENS = 24;

const textDecoderSubject = async (
  size: keyof typeof textDecoders,
  prompts: number,
  groupSize: number,
  maxNewTokens: number,
  loraRank: number,
  gradientCheckpointing: boolean,
  maxTokensPerMicroBatch: number | undefined,
  referenceInRollout: boolean,
  retainStates: boolean,
): Promise<Subject> => {
  const { base } = demoDirectories();
  const demoConfig = JSON.parse(await readFile(join(base, "config.json"), "utf8"));
  // Special-token ids of the demo tokenizer, so that its processor can encode the prompts.
  const config = textDecoders[size].config({
    image_token_id: demoConfig.image_token_id,
    video_token_id: demoConfig.video_token_id,
    vision_start_token_id: demoConfig.vision_start_token_id,
    vision_end_token_id: demoConfig.vision_end_token_id,
    eos_token_id: demoConfig.eos_token_id,
  });
  // wasm, unless the memory model says the step cannot fit its heap: then a TrainingMemoryError
  // names the setting to lower (a wasm heap overflow would abort the process).
  const rows = prompts * groupSize;
  const length = PROMPT_TOKENS + maxNewTokens;
  // The largest micro-batch: every row, or as many full-length rows as the token budget (response
  // tokens, as the trainer counts them) admits.
  const microBatchRows =
    maxTokensPerMicroBatch === undefined
      ? rows
      : Math.min(rows, Math.max(1, Math.floor(maxTokensPerMicroBatch / maxNewTokens)));
  const estimate = estimateTrainingStepMemory(config, {
    microBatchTokens: microBatchRows * length,
    sequenceLength: length,
    // LoRA rollouts decode a reference twin per row unless --no-reference-in-rollout.
    rolloutRows: loraRank > 0 && referenceInRollout ? 2 * rows : rows,
    rolloutLength: length,
    trainableParameters:
      loraRank > 0 ? config.text.numHiddenLayers * 4 * loraRank * 2 * config.text.hiddenSize : 0,
    // A LoRA policy keeps its rollout's decoder states for the loss pass unless --no-retain-states.
    ...(loraRank > 0 && retainStates && gradientCheckpointing ? { retainedStateTokens: rows * length } : {}),
  });
  const requested = await requestedBackend();
  assertTrainingStepFits(
    requested?.backend ?? "wasm",
    estimate,
    {
      microBatchTokens:
        maxTokensPerMicroBatch === undefined
          ? "--prompts × --group-size × (prompt + --max-new-tokens), or set --max-tokens-per-micro-batch"
          : "--max-tokens-per-micro-batch",
      rollout: "--max-new-tokens",
      retainedStates: "--no-retain-states",
    },
    gradientCheckpointing,
  );
  if (requested === undefined) await initBackend("wasm");
  const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  const backend = requested?.backend ?? "wasm";
  const reason =
    requested?.reason ??
    `estimated peak ${gib(estimate.peakBytes)} (weights ${gib(estimate.weightBytes)}, activations ${gib(estimate.activationBytes)}) fits the 4 GiB wasm heap`;
  const model = initQwen25VL(config, { seed: 0, parts: "text" });
  const demoProcessor = await loadQwenVLProcessor(base);
  const processor = boundedDecoding(demoProcessor, demoConfig.vocab_size);
  const policy: QwenVLPolicy =
    loraRank > 0
      ? createQwenVLPolicy({
          model,
          processor,
          lora: {
            rank: loraRank,
            alpha: 2 * loraRank,
            targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"],
          },
          name: `${size}-random`,
        })
      : createQwenVLPolicy({ model, processor, name: `${size}-random` });
  const task = syntheticCountingTask({ trainSize: prompts, heldOutSize: 0, variant: "count" });
  const examples = task.train.map((item) => {
    const example = toTrainingExample(item);
    // Text-only prompts: the question without its image.
    const text = item.messages.flatMap((message) =>
      typeof message.content === "string"
        ? [message.content]
        : message.content.flatMap((part) => (part.type === "text" ? [part.text] : [])),
    );
    return {
      answer: example.answer,
      request: {
        promptId: example.request.promptId,
        messages: [{ role: "user", content: text.join(" ") }],
        images: [],
      },
    } satisfies TrainingExample;
  });
  return {
    name: textDecoders[size].name,
    loaded: {
      policy,
      dispose: () => {
        policy.dispose();
        model.dispose();
      },
    },
    examples,
    backend,
    backendReason: reason,
    estimatedPeakBytes: estimate.peakBytes,
    fineTuning: loraRank > 0 ? `LoRA r=${loraRank} (q, k, v, o)` : "full",
    parameters: [...model.parameters.values()].reduce((sum, v) => sum + v.size, 0),
  };
};

const seconds = (start: number) => (performance.now() - start) / 1000;

interface StepSettings {
  readonly referenceInRollout: boolean;
  readonly retainStates: boolean;
  readonly groupSize: number;
  readonly maxNewTokens: number;
  readonly maxTokensPerMicroBatch: number | undefined;
  readonly objective: ReturnType<typeof createObjective>;
}

/** The optimizer settings of the timed step: AdamW at a tiny learning rate, gradients clipped at 1. */
const optimizerSettings = {
  lr: 1e-6,
  betas: [0.9, 0.999] as const,
  weightDecay: 0.01,
  eps: 1e-8,
  gradClip: 1,
  warmupSteps: 0,
  schedule: "constant" as const,
  minLrRatio: 0,
};

/**
 * One step of the trainer's `runTrainingStep`, timed phase by phase through its hooks. After the
 * `oldLogprobs` phase a hook runs one extra policy log-prob pass without a gradient over the same
 * micro-batches: its time is the `forward` column, outside the step (hook time is not counted).
 */
const oneStep = async (
  subject: Subject,
  verifier: BatchVerifier,
  optimizer: AdamW,
  settings: StepSettings,
  seed: number,
): Promise<{
  phases: TrainStepPhases;
  generatedTokens: number;
  tokens: number;
  activationBytesPerToken: number | null;
  retainedStates: boolean;
}> => {
  const policy = subject.loaded.policy;
  const spent: Partial<Record<StepPhase, number>> = {};
  let forward = 0;
  let meter: HeapMeter | undefined;
  let activationPeak: number | undefined;
  let retainedStates = false;
  let tokens = 0;
  let largestMicroBatchTokens = 0;
  const promptLength = new Map<string, number>();
  const rowLength = (batch: PolicyBatch, row: number) => {
    const rollout = batch.rollouts[row]!;
    let prompt = promptLength.get(rollout.promptId);
    if (prompt === undefined) {
      const request = batch.requests.find((candidate) => candidate.promptId === rollout.promptId)!;
      prompt = policy.processor.encodeRequest(request).inputIds.length;
      promptLength.set(rollout.promptId, prompt);
    }
    return prompt + rollout.tokenIds.length;
  };
  const { record } = await runTrainingStep(
    {
      policy,
      objective: settings.objective,
      verifier,
      optimizer,
      rollout: {
        groupSize: settings.groupSize,
        temperature: 1,
        topP: 1,
        topK: 0,
        maxNewTokens: settings.maxNewTokens,
        stopStrings: [],
        referenceInRollout: settings.referenceInRollout,
        retainStates: settings.retainStates,
      },
      optimizerConfig: { ...optimizerSettings, betas: [...optimizerSettings.betas] },
      maxTokensPerMicroBatch: settings.maxTokensPerMicroBatch,
      useReference: true,
      hooks: {
        beforePhase: (phase) => {
          if (phase !== "lossBackward") return;
          retainedStates = policy.retainedRolloutBytes() > 0;
          meter = startHeapMeter();
        },
        afterPhase: async (report) => {
          spent[report.phase] = (spent[report.phase] ?? 0) + report.seconds;
          if (report.phase === "lossBackward") {
            activationPeak = meter?.peakBytes();
            meter?.stop();
            for (const batch of report.microBatches) {
              const lengths = batch.rollouts.map((_, row) => rowLength(batch, row));
              tokens += lengths.reduce((sum, length) => sum + length, 0);
              largestMicroBatchTokens = Math.max(
                largestMicroBatchTokens,
                lengths.length * Math.max(...lengths),
              );
            }
          }
          if (report.phase !== "oldLogprobs") return;
          const start = performance.now();
          for (const batch of report.microBatches) {
            // Copies of the rollouts: a whole forward, never one from the rollout's retained states.
            const copies = { ...batch, rollouts: batch.rollouts.map((rollout) => ({ ...rollout })) };
            const logp = tf.tidy(() => policy.logprobs(copies).logp);
            await logp.data();
            logp.dispose();
          }
          forward = seconds(start);
        },
      },
    },
    { step: 0, totalSteps: 1, examples: subject.examples, seed, lr: optimizerSettings.lr },
  );
  const of = (phase: StepPhase) => spent[phase] ?? 0;
  const forwardBackward = of("lossBackward");
  return {
    retainedStates,
    generatedTokens: record.generatedTokens,
    tokens,
    activationBytesPerToken:
      activationPeak === undefined || largestMicroBatchTokens === 0
        ? null
        : activationPeak / largestMicroBatchTokens,
    phases: {
      rollout: of("rollout"),
      reward: of("score") + of("advantages"),
      referenceLogprobs: of("reference") + of("oldLogprobs"),
      forward,
      forwardBackward,
      backward: retainedStates ? forwardBackward : Math.max(0, forwardBackward - forward),
      update: of("update"),
      step: record.stepSeconds,
    },
  };
};

const medianPhases = (runs: ReadonlyArray<TrainStepPhases>): TrainStepPhases => {
  const of = (key: keyof TrainStepPhases) => median(runs.map((run) => run[key])) ?? 0;
  return {
    rollout: of("rollout"),
    reward: of("reward"),
    referenceLogprobs: of("referenceLogprobs"),
    forward: of("forward"),
    forwardBackward: of("forwardBackward"),
    backward: of("backward"),
    update: of("update"),
    step: of("step"),
  };
};

const measureModel = async (
  model: TrainStepModel,
  options: TrainStepPerfOptions,
  quick: boolean,
): Promise<TrainStepPerfRow> => {
  const isDemo = model === "demo";
  const prompts = options.prompts ?? (quick ? 2 : isDemo ? 4 : 2);
  const groupSize = options.groupSize ?? (quick ? 2 : isDemo ? 4 : 2);
  const maxNewTokens = options.maxNewTokens ?? (quick ? 4 : isDemo ? 32 : 8);
  const repeats = options.repeats ?? (quick ? 1 : 3);
  const warmup = options.warmup ?? (quick ? 0 : 1);
  const subject = isDemo
    ? await demoSubject(prompts)
    : await textDecoderSubject(
        model,
        prompts,
        groupSize,
        maxNewTokens,
        options.loraRank ?? 16,
        options.gradientCheckpointing ?? true,
        options.maxTokensPerMicroBatch,
        options.referenceInRollout ?? true,
        options.retainStates ?? true,
      );
  subject.loaded.policy.model.gradientCheckpointing = options.gradientCheckpointing ?? true;
  const verifier = await createRewardVerifier({ preset: "view-r1", accuracy: "counting", workers: 0 });
  const trainable = [...subject.loaded.policy.trainableParameters()];
  const optimizer = new AdamW(trainable, { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 });
  const settings = {
    referenceInRollout: options.referenceInRollout ?? true,
    retainStates: options.retainStates ?? true,
    groupSize,
    maxNewTokens,
    maxTokensPerMicroBatch: options.maxTokensPerMicroBatch,
    objective: createObjective("apo", {}),
  };
  try {
    for (let index = 0; index < warmup; index++) await oneStep(subject, verifier, optimizer, settings, index);
    const runs: TrainStepPhases[] = [];
    const tokens: number[] = [];
    const stepTokens: number[] = [];
    const activation: number[] = [];
    let retained = true;
    for (let index = 0; index < repeats; index++) {
      const outcome = await oneStep(subject, verifier, optimizer, settings, 1000 + index);
      runs.push(outcome.phases);
      retained &&= outcome.retainedStates;
      tokens.push(outcome.generatedTokens);
      stepTokens.push(outcome.tokens);
      if (outcome.activationBytesPerToken !== null) activation.push(outcome.activationBytesPerToken);
      options.onProgress?.(
        `train-step ${model} run ${index + 1}/${repeats}: ${outcome.phases.step.toFixed(3)} s`,
      );
    }
    return {
      model: subject.name,
      backend: subject.backend,
      backendReason: subject.backendReason,
      parameters: subject.parameters,
      trainableParameters: parameterCount(trainable),
      fineTuning: subject.fineTuning,
      prompts,
      groupSize,
      maxNewTokens,
      generatedTokens: median(tokens) ?? 0,
      phases: medianPhases(runs),
      runs,
      bytesAfterStep: tf.memory().numBytes,
      tokens: median(stepTokens) ?? 0,
      peakHeapBytes: wasmHeapBytes() ?? null,
      activationBytesPerToken: median(activation) ?? null,
      estimatedPeakBytes: subject.estimatedPeakBytes,
      gradientCheckpointing: subject.loaded.policy.model.gradientCheckpointing,
      referenceInRollout:
        settings.referenceInRollout && subject.loaded.policy.generateWithReference !== undefined,
      retainStates: retained,
      wasmThreads: subject.backend === "wasm" ? (wasmThreads()?.threads ?? null) : null,
    };
  } finally {
    optimizer.dispose();
    await verifier.close();
    subject.loaded.dispose();
  }
};

const format = (value: number) => (value >= 10 ? value.toFixed(1) : value.toFixed(3));

/**
 * The markdown table of {@link runTrainStepPerf}: one row per model, seconds per phase.
 *
 * @since 0.1.0
 * @category perf
 */
export const trainStepTable = (rows: ReadonlyArray<TrainStepPerfRow>): string =>
  [
    "| model | backend | fine-tuning | params | trainable | prompts × G | new tokens | tokens | checkpointing | activation MiB/token | peak heap GiB | rollout s | reward s | reference s | forward s | backward s | update s | step s |",
    `|${" --- |".repeat(18)}`,
    ...rows.map(
      (row) =>
        `| ${row.model} | ${row.backend}${row.wasmThreads !== null && row.wasmThreads > 1 ? ` × ${row.wasmThreads} threads` : ""} | ${row.fineTuning} | ${(row.parameters / 1e6).toFixed(2)} M | ${(row.trainableParameters / 1e6).toFixed(2)} M | ${row.prompts} × ${row.groupSize} | ${row.generatedTokens} | ${row.tokens} | ${row.gradientCheckpointing ? "on" : "off"} | ${row.activationBytesPerToken === null ? "–" : (row.activationBytesPerToken / 2 ** 20).toFixed(3)} | ${row.peakHeapBytes === null ? "–" : (row.peakHeapBytes / 2 ** 30).toFixed(2)} | ${format(row.phases.rollout)} | ${format(row.phases.reward)} | ${format(row.phases.referenceLogprobs)} | ${format(row.phases.forward)} | ${format(row.phases.backward)} | ${format(row.phases.update)} | ${format(row.phases.step)} |`,
    ),
  ].join("\n");

/**
 * One full RL step (rollout, reward, reference log-probs, forward + backward, clipping + AdamW)
 * on the demo model and on a Qwen2.5-0.5B-sized decoder, timed by phase; the median of `repeats`
 * steps after `warmup` untimed ones. Leaves the last backend active.
 *
 * @since 0.1.0
 * @category perf
 */
export const runTrainStepPerf = async (options: TrainStepPerfOptions = {}): Promise<BenchmarkOutcome> => {
  const quick = options.quick === true;
  const models = options.models ?? (quick ? ["demo"] : ["demo", "qwen2.5-0.5b"]);
  const rows: TrainStepPerfRow[] = [];
  for (const model of models) rows.push(await measureModel(model, options, quick));
  return { results: { settings: { quick, models }, rows }, table: trainStepTable(rows) };
};
