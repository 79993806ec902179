/**
 * `apo-bench perf train-step`: one full RL step of the trainer, timed phase by phase.
 *
 * A step here is exactly what `@apo-rl/trainer`'s `runTrainingStep` does with one micro-batch —
 * rollout (`policy.generate`, `G` responses per prompt), reward (verification of every response),
 * reference log-probs (no gradient), the policy's log-probs with the objective's loss under
 * `tf.variableGrads` (forward + backward), then global-norm clipping and an AdamW update — but
 * with a clock around each phase. To split forward from backward, every step also runs one extra
 * policy log-prob pass without a gradient; its time is the `forward` column, `backward` is
 * `forward + backward − forward`, and the extra pass is not part of the step total.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { syntheticCountingTask } from "@apo-rl/datasets";
import { createObjective } from "@apo-rl/objectives";
import {
  createQwenVLPolicy,
  decodeQwen25VLConfig,
  estimateQwen25VLMemory,
  initQwen25VL,
  loadQwenVLProcessor,
  type Qwen25VLConfig,
  type QwenVLPolicy,
  type QwenVLProcessorShape,
} from "@apo-rl/qwen-vl";
import { initBackend } from "@apo-rl/tensor";
import {
  AdamW,
  type BatchVerifier,
  clipByGlobalNorm,
  groupRollouts,
  type ScoredGroup,
  scoreGroups,
  type TrainingExample,
  toTrainingExample,
  uniqueRequests,
} from "@apo-rl/trainer";
import * as tf from "@tensorflow/tfjs-core";
import type { BenchmarkOutcome } from "../output.js";
import { demoDirectories, type LoadedPolicy, loadPolicy } from "../policySource.js";
import { createRewardVerifier } from "../rewardVerifier.js";
import { median } from "../statistics.js";
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
  /** LoRA rank of the 0.5B model (0 = full fine-tuning). Default 16. */
  readonly loraRank?: number;
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
  /** The extra policy log-prob pass without a gradient (not part of `step`). */
  readonly forward: number;
  /** Policy log-probs + objective loss + gradients under `tf.variableGrads`. */
  readonly forwardBackward: number;
  /** `forwardBackward − forward`. */
  readonly backward: number;
  /** Global-norm clipping + AdamW. */
  readonly update: number;
  /** rollout + reward + referenceLogprobs + forwardBackward + update. */
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
}

/** Qwen2.5-0.5B's text shape (896 wide, 24 layers, 14/2 heads, 4864 MLP, tied 151,936 vocabulary). */
const qwen05BJson = {
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  vocab_size: 151_936,
  tie_word_embeddings: true,
  rope_scaling: { type: "mrope", mrope_section: [8, 12, 12] },
  vision_config: { out_hidden_size: 896 },
} as const;

/** The text decoder of Qwen2.5-VL-3B-Instruct's config.json (3.1 B parameters with the embedding). */
const qwen3BJson = {
  hidden_size: 2048,
  intermediate_size: 11008,
  num_hidden_layers: 36,
  num_attention_heads: 16,
  num_key_value_heads: 2,
  vocab_size: 151_936,
  tie_word_embeddings: true,
  rope_scaling: { type: "mrope", mrope_section: [16, 24, 24] },
  vision_config: { out_hidden_size: 2048 },
} as const;

const textDecoders = {
  "qwen2.5-0.5b": { json: qwen05BJson, name: "Qwen2.5-0.5B-sized text decoder (random weights)" },
  "qwen2.5-vl-3b": { json: qwen3BJson, name: "Qwen2.5-VL-3B-sized text decoder (random weights)" },
} as const;

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
    fineTuning: "full (vision tower frozen)",
    parameters: [...loaded.policy.model.parameters.values()].reduce((sum, v) => sum + v.size, 0),
  };
};

/**
 * Tokens a training step on wasm may hold activations for, next to weights that take up to half of
 * the 4 GiB heap. Measured on the Qwen2.5-0.5B-sized decoder with LoRA r=16 on q, k, v, o: 2 prompts
 * × 2 rollouts of ~26 tokens (104 tokens) peaked at 3.1 GiB of heap, ~10 MiB per token above the
 * 1.9 GiB of weights.
 */
const WASM_STEP_TOKENS = 160;

/** Prompt tokens of the step's text-only synthetic questions (chat template included), at most. */
const PROMPT_TOKENS = 24;

/**
 * wasm when the float32 weights take at most half of its 4 GiB heap and the step's rollouts
 * (`rows × (prompt + new tokens)`) stay within {@link WASM_STEP_TOKENS}, else cpu. A wasm heap
 * overflow aborts the whole process (it cannot be caught), so a larger step goes to cpu.
 */
const chooseBackend = async (config: Qwen25VLConfig, rows: number, maxNewTokens: number) => {
  const requested = await requestedBackend();
  if (requested !== undefined) return requested;
  const bytes = estimateQwen25VLMemory(config, "text").weightBytes;
  const gib = (bytes / 2 ** 30).toFixed(2);
  const tokens = rows * (PROMPT_TOKENS + maxNewTokens);
  if (2 * bytes <= 2 ** 32 && tokens <= WASM_STEP_TOKENS) {
    await initBackend("wasm");
    return {
      backend: "wasm",
      reason: `${gib} GiB of weights (at most ½ of the 4 GiB wasm heap), ≤ ${tokens} tokens of activations`,
    };
  }
  await initBackend("cpu");
  return {
    backend: "cpu",
    reason: `${gib} GiB of weights and up to ${tokens} tokens of activations would overflow the 4 GiB wasm heap`,
  };
};

const textDecoderSubject = async (
  size: keyof typeof textDecoders,
  prompts: number,
  groupSize: number,
  maxNewTokens: number,
  loraRank: number,
): Promise<Subject> => {
  const { base } = demoDirectories();
  const demoConfig = JSON.parse(await readFile(join(base, "config.json"), "utf8"));
  // Special-token ids of the demo tokenizer, so that its processor can encode the prompts.
  const config = decodeQwen25VLConfig({
    ...textDecoders[size].json,
    image_token_id: demoConfig.image_token_id,
    video_token_id: demoConfig.video_token_id,
    vision_start_token_id: demoConfig.vision_start_token_id,
    vision_end_token_id: demoConfig.vision_end_token_id,
    eos_token_id: demoConfig.eos_token_id,
  });
  const { backend, reason } = await chooseBackend(config, prompts * groupSize, maxNewTokens);
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
    fineTuning: loraRank > 0 ? `LoRA r=${loraRank} (q, k, v, o)` : "full",
    parameters: [...model.parameters.values()].reduce((sum, v) => sum + v.size, 0),
  };
};

const seconds = (start: number) => (performance.now() - start) / 1000;

const paddedLogprobs = (groups: ReadonlyArray<ScoredGroup>, length: number): tf.Tensor2D => {
  const samples = groups.flatMap((group) => group.rollouts);
  const values = new Float32Array(samples.length * length);
  samples.forEach((sample, row) => {
    values.set(sample.rollout.logprobs.slice(0, length), row * length);
  });
  return tf.tensor2d(values, [samples.length, length]);
};

interface StepSettings {
  readonly groupSize: number;
  readonly maxNewTokens: number;
  readonly objective: ReturnType<typeof createObjective>;
}

const oneStep = async (
  subject: Subject,
  verifier: BatchVerifier,
  optimizer: AdamW,
  settings: StepSettings,
  seed: number,
): Promise<{ phases: TrainStepPhases; generatedTokens: number }> => {
  const policy = subject.loaded.policy;
  const objective = settings.objective;
  let start = performance.now();
  const requests = uniqueRequests(subject.examples);
  const rollouts = await policy.generate(requests, {
    n: settings.groupSize,
    temperature: 1,
    maxNewTokens: settings.maxNewTokens,
    seed,
  });
  const rollout = seconds(start);
  start = performance.now();
  const groups = await scoreGroups(
    subject.examples,
    requests,
    groupRollouts(requests, rollouts, settings.groupSize),
    verifier,
  );
  const reward = seconds(start);
  const samples = groups.flatMap((group) => group.rollouts);
  const batch = { requests, rollouts: samples.map((sample) => sample.rollout), temperature: 1 };
  start = performance.now();
  const logpRef = tf.tidy(() => policy.logprobs(batch, { reference: true }).logp);
  await logpRef.data();
  const referenceLogprobs = seconds(start);
  start = performance.now();
  const logp = tf.tidy(() => policy.logprobs(batch).logp);
  await logp.data();
  logp.dispose();
  const forward = seconds(start);
  start = performance.now();
  const parameters = [...policy.trainableParameters()];
  const { value, grads } = tf.variableGrads(() => {
    const current = policy.logprobs(batch);
    const logpOld = paddedLogprobs(groups, current.logp.shape[1]!);
    return objective.loss(
      {
        logp: current.logp,
        logpOld,
        logpRef,
        mask: current.mask,
        rewards: samples.map((sample) => sample.reward),
        correct: samples.map((sample) => sample.correct),
        lengths: samples.map((sample) => sample.rollout.tokenIds.length),
        groupSize: settings.groupSize,
      },
      { step: 0, totalSteps: 1 },
    ).loss as tf.Scalar;
  }, parameters);
  await value.data();
  const gradients = parameters.map((parameter) => grads[parameter.name] ?? tf.zerosLike(parameter));
  for (const gradient of gradients) await gradient.data();
  const forwardBackward = seconds(start);
  start = performance.now();
  const clipped = await clipByGlobalNorm(gradients, 1);
  optimizer.update(clipped.gradients, 1e-6);
  await parameters[0]?.data();
  const update = seconds(start);
  tf.dispose([value, logpRef, ...gradients, ...clipped.gradients]);
  tf.dispose(Object.values(grads));
  return {
    generatedTokens: samples.reduce((sum, sample) => sum + sample.rollout.tokenIds.length, 0),
    phases: {
      rollout,
      reward,
      referenceLogprobs,
      forward,
      forwardBackward,
      backward: Math.max(0, forwardBackward - forward),
      update,
      step: rollout + reward + referenceLogprobs + forwardBackward + update,
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
    : await textDecoderSubject(model, prompts, groupSize, maxNewTokens, options.loraRank ?? 16);
  const verifier = await createRewardVerifier({ preset: "view-r1", accuracy: "counting", workers: 0 });
  const trainable = [...subject.loaded.policy.trainableParameters()];
  const optimizer = new AdamW(trainable, { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 });
  const settings = { groupSize, maxNewTokens, objective: createObjective("apo", {}) };
  try {
    for (let index = 0; index < warmup; index++) await oneStep(subject, verifier, optimizer, settings, index);
    const runs: TrainStepPhases[] = [];
    const tokens: number[] = [];
    for (let index = 0; index < repeats; index++) {
      const outcome = await oneStep(subject, verifier, optimizer, settings, 1000 + index);
      runs.push(outcome.phases);
      tokens.push(outcome.generatedTokens);
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
    "| model | backend | fine-tuning | params | trainable | prompts × G | new tokens | rollout s | reward s | reference s | forward s | backward s | update s | step s |",
    `|${" --- |".repeat(14)}`,
    ...rows.map(
      (row) =>
        `| ${row.model} | ${row.backend} | ${row.fineTuning} | ${(row.parameters / 1e6).toFixed(2)} M | ${(row.trainableParameters / 1e6).toFixed(2)} M | ${row.prompts} × ${row.groupSize} | ${row.generatedTokens} | ${format(row.phases.rollout)} | ${format(row.phases.reward)} | ${format(row.phases.referenceLogprobs)} | ${format(row.phases.forward)} | ${format(row.phases.backward)} | ${format(row.phases.update)} | ${format(row.phases.step)} |`,
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
