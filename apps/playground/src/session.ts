import type { RawImage } from "@apo-rl/core";
import { syntheticCountingTaskPixels } from "@apo-rl/datasets/portable";
import { createObjective } from "@apo-rl/objectives";
import {
  compileChatTemplate,
  createPortableQwenVLPolicy,
  decodeImageProcessorConfig,
  frozenCopyQwen25VL,
  loadQwen25VLFromBytes,
  makePortableQwenVLProcessor,
  makeQwenVLTokenizer,
  type Qwen25VLModel,
  type QwenVLPolicy,
  qwen25VLSafetensorsBytes,
} from "@apo-rl/qwen-vl/portable";
import {
  type BatchVerifier,
  demoVerifier,
  EVALUATION_SEED_OFFSET,
  type EvaluationRecord,
  evaluate,
  InMemoryAdamW,
  inProcessBatchVerifier,
  learningRateAt,
  type PromptCursor,
  runTrainingStep,
  samplerCursor,
  type TensorObjective,
  type TrainerConfig,
  TrainerRandom,
  type TrainingExample,
  type TrainingSummary,
  type TrainStepRecord,
  toTrainingExample,
  usesReferenceAtAnyStep,
} from "@apo-rl/trainer/portable";
import chatTemplate from "../../trainer/assets/demo-sft/chat_template.jinja?raw";
import modelConfig from "../../trainer/assets/demo-sft/config.json";
import weightsUrl from "../../trainer/assets/demo-sft/model.safetensors?url";
import preprocessorConfig from "../../trainer/assets/demo-sft/preprocessor_config.json";
import tokenizerJson from "../../trainer/assets/demo-sft/tokenizer.json";
import tokenizerConfig from "../../trainer/assets/demo-sft/tokenizer_config.json";

/** One held-out prompt shown with the policy's current greedy answer. */
export interface PanelEntry {
  readonly image: RawImage;
  readonly question: string;
  readonly answer: string;
  readonly response: string;
  readonly correct: boolean;
}

/** What a run reports as it goes. */
export interface SessionListener {
  onStep(record: TrainStepRecord): void;
  onEvaluation(record: EvaluationRecord): void;
  onPanel(entries: ReadonlyArray<PanelEntry>): void;
  onLog(line: string): void;
}

/** The trainer's `summary.json` fields (no run directory in a page) plus the backend. */
export interface PlaygroundSummary
  extends Omit<TrainingSummary, "runDir" | "backend" | "lastCheckpoint" | "resumedFrom"> {
  readonly runDir: null;
  readonly backend: string;
  readonly lastCheckpoint: null;
  readonly resumedFrom: null;
  /** Per-step and evaluation records, as the trainer's `metrics.jsonl` lines. */
  readonly metrics: ReadonlyArray<TrainStepRecord | EvaluationRecord>;
}

const PANEL_SIZE = 6;

/** The demo SFT checkpoint's weights, fetched once from the bundle (same origin). */
let weights: Promise<ArrayBuffer> | undefined;
const demoWeights = () => {
  weights ??= fetch(weightsUrl).then((response) => {
    if (!response.ok) throw new Error(`${weightsUrl}: HTTP ${response.status}`);
    return response.arrayBuffer();
  });
  return weights;
};

const loadPolicy = async (
  withReference: boolean,
): Promise<{ readonly policy: QwenVLPolicy; readonly reference: Qwen25VLModel | undefined }> => {
  const model = await loadQwen25VLFromBytes({ config: modelConfig, weights: await demoWeights() });
  const reference = withReference ? frozenCopyQwen25VL(model) : undefined;
  const processor = makePortableQwenVLProcessor({
    tokenizer: makeQwenVLTokenizer(tokenizerJson, tokenizerConfig),
    imageProcessorConfig: decodeImageProcessorConfig(preprocessorConfig, {}, "preprocessor_config.json"),
    chatTemplate: compileChatTemplate(chatTemplate, "chat_template.jinja"),
  });
  const policy = createPortableQwenVLPolicy({
    model,
    processor,
    trainVisionTower: false,
    ...(reference === undefined ? {} : { reference }),
  });
  return { policy, reference };
};

/**
 * One training run in the page: the demo's policy, task, reward and objective built as `apo-train`
 * builds them from the same config, then the trainer's loop semantics (held-out evaluation before
 * the first step, every `evalEvery` steps and after the last; step seeds from the trainer's seeded
 * generator) around the trainer's own `runTrainingStep`.
 */
export class TrainingSession {
  readonly config: TrainerConfig;
  readonly backend: string;
  #policy: QwenVLPolicy | undefined;
  #reference: Qwen25VLModel | undefined;
  #objective: TensorObjective | undefined;
  #optimizer: InMemoryAdamW | undefined;
  #verifier: BatchVerifier = inProcessBatchVerifier(demoVerifier());
  #train: PromptCursor | undefined;
  #heldOut: ReadonlyArray<TrainingExample> = [];
  #random: TrainerRandom;
  #useReference = false;
  #step = 0;
  #paused = false;
  #running: Promise<PlaygroundSummary> | undefined;
  #metrics: Array<TrainStepRecord | EvaluationRecord> = [];
  #skippedSteps = 0;
  #seconds = 0;

  constructor(
    config: TrainerConfig,
    backend: string,
    private readonly listener: SessionListener,
  ) {
    this.config = config;
    this.backend = backend;
    this.#random = new TrainerRandom(config.train.seed);
  }

  get step(): number {
    return this.#step;
  }

  get policy(): QwenVLPolicy | undefined {
    return this.#policy;
  }

  async prepare(): Promise<void> {
    const { config } = this;
    const started = performance.now();
    this.#objective = createObjective(config.objective.name, config.objective.options) as TensorObjective;
    this.#useReference = usesReferenceAtAnyStep(this.#objective, config.train.steps);
    const loaded = await loadPolicy(this.#useReference);
    this.#policy = loaded.policy;
    this.#reference = loaded.reference;
    this.#optimizer = new InMemoryAdamW(this.#policy.trainableParameters(), {
      betas: config.optimizer.betas,
      eps: config.optimizer.eps,
      weightDecay: config.optimizer.weightDecay,
    });
    const synthetic = config.data.synthetic;
    const task = syntheticCountingTaskPixels({
      seed: config.train.seed,
      trainSize: synthetic.trainSize,
      heldOutSize: config.data.heldOutSize,
      difficulty: synthetic.difficulty,
      variant: synthetic.variant,
      imageSize: synthetic.imageSize,
      ...(synthetic.targetColors === undefined ? {} : { targetColors: synthetic.targetColors }),
    });
    this.#train = samplerCursor(task.train.map(toTrainingExample), config.train.seed);
    this.#heldOut = task.heldOut.map(toTrainingExample);
    this.#seconds += (performance.now() - started) / 1000;
    this.listener.onLog(
      `loaded the demo checkpoint and ${task.train.length} + ${task.heldOut.length} synthetic prompts (seed ${config.train.seed})`,
    );
  }

  pause(): void {
    this.#paused = true;
  }

  /** Train (or continue after a pause) to `train.steps`; resolves with the summary when done or paused. */
  run(): Promise<PlaygroundSummary> {
    this.#paused = false;
    this.#running ??= this.#loop().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #evaluate(): Promise<void> {
    const { config } = this;
    if (config.train.evalEvery === 0 || this.#heldOut.length === 0) return;
    const record = await evaluate(
      this.#policy!,
      this.#verifier,
      this.#heldOut,
      {
        temperature: config.train.evalTemperature,
        maxNewTokens: config.rollout.maxNewTokens,
        seed: (config.train.seed + EVALUATION_SEED_OFFSET) >>> 0,
        batchSize: Math.max(1, config.train.promptsPerStep * config.rollout.groupSize),
        stopStrings: config.rollout.stopStrings,
      },
      this.#step,
    );
    this.#metrics.push(record);
    this.listener.onEvaluation(record);
    await this.#refreshPanel();
  }

  /** Greedy answers of the first held-out prompts (outside the run's sampling: own fixed seed). */
  async #refreshPanel(): Promise<void> {
    const examples = this.#heldOut.slice(0, PANEL_SIZE);
    const rollouts = await this.#policy!.generate(
      examples.map((example) => example.request),
      { n: 1, temperature: 0, maxNewTokens: this.config.rollout.maxNewTokens, seed: 0 },
    );
    const verdicts = await this.#verifier.verifyBatch(
      rollouts.map((rollout, index) => ({ response: rollout.text, reference: examples[index]!.answer })),
    );
    this.listener.onPanel(
      examples.map((example, index) => {
        const content = example.request.messages[0]!.content;
        const text = typeof content === "string" ? content : content.find((part) => part.type === "text");
        return {
          image: example.request.images![0] as RawImage,
          question: typeof text === "string" ? text : text !== undefined && "text" in text ? text.text : "",
          answer: example.answer,
          response: rollouts[index]!.text,
          correct: verdicts[index]!.correct === true,
        };
      }),
    );
  }

  async #loop(): Promise<PlaygroundSummary> {
    const { config } = this;
    const totalSteps = config.train.steps;
    const started = performance.now();
    try {
      if (this.#step === 0 && this.#metrics.length === 0) await this.#evaluate();
      while (this.#step < totalSteps && !this.#paused) {
        const examples = this.#train!.next(config.train.promptsPerStep);
        const seed = this.#random.nextUint32();
        const { record } = await runTrainingStep(
          {
            policy: this.#policy!,
            objective: this.#objective!,
            verifier: this.#verifier,
            optimizer: this.#optimizer!,
            rollout: config.rollout,
            optimizerConfig: config.optimizer,
            maxTokensPerMicroBatch: config.train.maxTokensPerMicroBatch,
            ppoEpochs: config.train.ppoEpochs,
            miniBatchesPerStep: config.train.miniBatchesPerStep,
            useReference: this.#useReference,
          },
          {
            step: this.#step,
            totalSteps,
            examples,
            seed,
            lr: learningRateAt(config.optimizer, this.#step, totalSteps),
          },
        );
        this.#step += 1;
        if (record.skipped) this.#skippedSteps += 1;
        this.#metrics.push(record);
        this.listener.onStep(record);
        if (
          config.train.evalEvery > 0 &&
          this.#step % config.train.evalEvery === 0 &&
          this.#step < totalSteps
        )
          await this.#evaluate();
      }
      if (this.#step === totalSteps && !this.#paused) await this.#evaluate();
    } finally {
      this.#seconds += (performance.now() - started) / 1000;
    }
    return this.summary();
  }

  summary(): PlaygroundSummary {
    const evaluations = this.#metrics.filter((record): record is EvaluationRecord => record.kind === "eval");
    const before = evaluations.find((record) => record.step === 0);
    const after = evaluations.at(-1);
    return {
      runDir: null,
      objective: this.#objective?.name ?? this.config.objective.name,
      policy: this.#policy?.name ?? "qwen2.5-vl",
      backend: this.backend,
      steps: this.#step,
      plannedSteps: this.config.train.steps,
      interrupted: this.#step < this.config.train.steps,
      skippedSteps: this.#skippedSteps,
      heldOutAccuracyBefore: before?.accuracy ?? null,
      heldOutAccuracyAfter: after !== undefined && after !== before ? after.accuracy : null,
      wallSeconds: this.#seconds,
      lastCheckpoint: null,
      resumedFrom: null,
      skippedDataRows: 0,
      skippedDrawnRows: 0,
      metrics: this.#metrics,
    };
  }

  /** The trained weights as the `model.safetensors` `apo-train` writes (loadable by `apo-bench eval`). */
  weights(): Promise<Uint8Array> {
    return qwen25VLSafetensorsBytes(this.#policy!.model);
  }

  dispose(): void {
    this.#optimizer?.dispose();
    const policy = this.#policy;
    if (policy === undefined) return;
    policy.dispose();
    policy.model.dispose();
    this.#reference?.dispose();
  }
}
