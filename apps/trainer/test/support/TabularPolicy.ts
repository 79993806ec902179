import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type {
  GenerationOptions,
  GenerationRequest,
  PolicyBatch,
  PolicyLogprobs,
  PolicyV1,
  Rollout,
} from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import { SeededRandom } from "../../src/internal/random.js";

/**
 * A genuinely trainable tiny policy for tests: a table of logits with one row per (prompt,
 * response position): row `prompt · maxLength + position` gives the distribution of the token at
 * that position of a response to that prompt. Sampling is real (seeded, temperature, top-k,
 * top-p), log-probs are differentiable through a tfjs `Variable`, and the reference policy is a
 * frozen copy of the initial table.
 */
export interface TabularPolicyOptions {
  readonly vocabulary: ReadonlyArray<string>;
  /** Index in `vocabulary` of the end-of-sequence token (in `tokenIds`, not in `text`). */
  readonly endOfSequence: number;
  /** The prompt texts this policy knows, one context row each. */
  readonly prompts: ReadonlyArray<string>;
  readonly seed: number;
  /** Standard deviation of the random initial logits. */
  readonly initialScale?: number;
  /** Longest response this policy can produce (default 4). */
  readonly maxLength?: number;
}

const promptText = (request: GenerationRequest): string =>
  request.messages
    .map((message) =>
      typeof message.content === "string"
        ? message.content
        : message.content.map((part) => (part.type === "text" ? part.text : "")).join(""),
    )
    .join("\n");

const logSoftmax = (logits: ReadonlyArray<number>): number[] => {
  const maximum = Math.max(...logits);
  const total = logits.reduce((sum, value) => sum + Math.exp(value - maximum), 0);
  return logits.map((value) => value - maximum - Math.log(total));
};

export class TabularPolicy implements PolicyV1<tf.Tensor, tf.Variable> {
  readonly specificationVersion = "v1" as const;
  readonly name = "tabular-test-policy";
  readonly table: tf.Variable;
  readonly reference: tf.Tensor;
  readonly options: TabularPolicyOptions;
  readonly maxLength: number;
  readonly #contexts: Map<string, number>;

  constructor(options: TabularPolicyOptions) {
    this.options = options;
    this.#contexts = new Map(options.prompts.map((prompt, index) => [prompt, index]));
    this.maxLength = options.maxLength ?? 4;
    const rows = options.prompts.length * this.maxLength;
    const scale = options.initialScale ?? 0.1;
    this.table = tf.tidy(() =>
      tf.variable(
        tf.randomNormal([rows, options.vocabulary.length], 0, scale, "float32", options.seed),
        true,
      ),
    );
    this.reference = tf.keep(this.table.clone());
  }

  contextOf(request: GenerationRequest): number {
    const context = this.#contexts.get(promptText(request));
    if (context === undefined)
      throw new Error(`TabularPolicy: unknown prompt ${JSON.stringify(promptText(request))}`);
    return context;
  }

  async generate(
    requests: ReadonlyArray<GenerationRequest>,
    options: GenerationOptions,
  ): Promise<ReadonlyArray<Rollout>> {
    const table = Array.from(await this.table.data());
    const width = this.options.vocabulary.length;
    const random = new SeededRandom(options.seed);
    const rollouts: Rollout[] = [];
    for (const request of requests) {
      const context = this.contextOf(request);
      for (let groupIndex = 0; groupIndex < options.n; groupIndex++) {
        const tokenIds: number[] = [];
        const logprobs: number[] = [];
        let finishReason: "stop" | "length" = "length";
        while (tokenIds.length < Math.min(options.maxNewTokens, this.maxLength)) {
          const row = context * this.maxLength + tokenIds.length;
          const logits = table.slice(row * width, (row + 1) * width);
          const { token, logprob } = this.#sample(logits, options, random);
          tokenIds.push(token);
          logprobs.push(logprob);
          if (token === this.options.endOfSequence) {
            finishReason = "stop";
            break;
          }
        }
        const text = tokenIds
          .filter((token) => token !== this.options.endOfSequence)
          .map((token) => this.options.vocabulary[token])
          .join("");
        rollouts.push({ promptId: request.promptId, groupIndex, tokenIds, logprobs, text, finishReason });
      }
    }
    return rollouts;
  }

  #sample(
    logits: ReadonlyArray<number>,
    options: GenerationOptions,
    random: SeededRandom,
  ): { token: number; logprob: number } {
    if (options.temperature === 0) {
      const token = logits.indexOf(Math.max(...logits));
      return { token, logprob: 0 };
    }
    const scaled = logSoftmax(logits.map((value) => value / options.temperature));
    let allowed = scaled.map((_, index) => index).sort((a, b) => scaled[b]! - scaled[a]!);
    if (options.topK !== undefined && options.topK > 0) allowed = allowed.slice(0, options.topK);
    if (options.topP !== undefined && options.topP < 1) {
      let mass = 0;
      const kept: number[] = [];
      for (const index of allowed) {
        kept.push(index);
        mass += Math.exp(scaled[index]!);
        if (mass >= options.topP) break;
      }
      allowed = kept;
    }
    const renormalised = logSoftmax(allowed.map((index) => scaled[index]!));
    let draw = random.next();
    for (const [position, index] of allowed.entries()) {
      draw -= Math.exp(renormalised[position]!);
      if (draw < 0 || position === allowed.length - 1)
        return { token: index, logprob: renormalised[position]! };
    }
    throw new Error("unreachable");
  }

  logprobs(batch: PolicyBatch, options?: { readonly reference?: boolean }): PolicyLogprobs<tf.Tensor> {
    const requests = new Map(batch.requests.map((request) => [request.promptId, request]));
    const length = Math.max(1, ...batch.rollouts.map((rollout) => rollout.tokenIds.length));
    const rows: number[] = [];
    const targets: number[] = [];
    const mask: number[] = [];
    for (const rollout of batch.rollouts) {
      const request = requests.get(rollout.promptId);
      if (request === undefined) throw new Error(`TabularPolicy: no request for ${rollout.promptId}`);
      const context = this.contextOf(request);
      if (rollout.tokenIds.length > this.maxLength)
        throw new Error(
          `TabularPolicy: a response of ${rollout.tokenIds.length} tokens exceeds maxLength ${this.maxLength}`,
        );
      for (let position = 0; position < length; position++) {
        const token = rollout.tokenIds[position];
        rows.push(token === undefined ? 0 : context * this.maxLength + position);
        targets.push(token ?? 0);
        mask.push(token === undefined ? 0 : 1);
      }
    }
    const temperature = batch.temperature > 0 ? batch.temperature : 1;
    const source = options?.reference === true ? this.reference : this.table;
    return tf.tidy(() => {
      const shape: [number, number] = [batch.rollouts.length, length];
      const logits = tf.div(tf.gather(source, tf.tensor1d(rows, "int32")), temperature);
      const logProbabilities = tf.logSoftmax(logits);
      const picked = tf.sum(
        tf.mul(logProbabilities, tf.oneHot(tf.tensor1d(targets, "int32"), this.options.vocabulary.length)),
        1,
      );
      const maskTensor = tf.tensor2d(mask, shape);
      const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logProbabilities), logProbabilities), 1));
      return {
        logp: tf.mul(tf.reshape(picked, shape), maskTensor),
        mask: maskTensor,
        entropy: tf.mul(tf.reshape(entropy, shape), maskTensor),
      };
    });
  }

  trainableParameters(): ReadonlyArray<tf.Variable> {
    return [this.table];
  }

  async save(directory: string): Promise<void> {
    await mkdir(directory, { recursive: true });
    const payload = { shape: this.table.shape, values: Array.from(await this.table.data()) };
    await writeFile(join(directory, "tabular-policy.json"), JSON.stringify(payload));
  }

  async load(directory: string): Promise<void> {
    const payload = JSON.parse(await readFile(join(directory, "tabular-policy.json"), "utf8")) as {
      shape: number[];
      values: number[];
    };
    if (payload.shape.join(",") !== this.table.shape.join(","))
      throw new Error(`TabularPolicy: saved shape [${payload.shape}] differs from [${this.table.shape}]`);
    tf.tidy(() => this.table.assign(tf.tensor(payload.values, this.table.shape, "float32")));
  }

  dispose(): void {
    this.table.dispose();
    this.reference.dispose();
  }
}
