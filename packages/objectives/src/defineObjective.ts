import type {
  MicroBatchOutput,
  ObjectiveContext,
  ObjectiveInput,
  ObjectiveMicroBatch,
  ObjectiveOutput,
  ObjectiveV2,
  SampleBatch,
  StepSamples,
  StepTotals,
} from "@apo-rl/core";
import * as tf from "@tensorflow/tfjs-core";
import { type CheckedInput, checkInput } from "./internal/checkInput.js";
import { checkLength } from "./internal/groups.js";
import { invalid } from "./internal/invalid.js";
import { klShareOfLoss } from "./mechanismTelemetry.js";

/**
 * The parts an objective is made of; {@link defineObjective} adds the whole-batch `loss`.
 *
 * @since 0.2.0
 * @category building blocks
 */
export interface ObjectiveParts {
  readonly name: string;
  readonly metricNames: ReadonlyArray<string>;
  readonly usesReference: (context: ObjectiveContext) => boolean;
  readonly advantages: (batch: SampleBatch, context: ObjectiveContext) => StepSamples;
  readonly microBatchLoss: (
    input: ObjectiveMicroBatch<tf.Tensor>,
    context: ObjectiveContext,
  ) => MicroBatchOutput<tf.Tensor>;
}

/**
 * The step totals of one whole batch: from its mask when `checkInput` could read it on the host,
 * else from the given `lengths` (`Σ lengths` tokens, rows with a positive length as responses).
 */
const batchTotals = (checked: CheckedInput): StepTotals => {
  let tokens = 0;
  let responseSequences = 0;
  for (let sample = 0; sample < checked.samples; sample++) {
    let count = 0;
    if (checked.mask === undefined) count = checked.lengths[sample]!;
    else
      for (let token = 0; token < checked.tokens; token++)
        if (checked.mask[sample * checked.tokens + token]! > 0) count++;
    tokens += count;
    if (count > 0) responseSequences++;
  }
  return { tokens, sequences: checked.samples, responseSequences, paddedLength: checked.tokens };
};

/** Backends whose tensors live in host (or wasm) memory: reading a metric synchronously is a copy. */
const HOST_BACKENDS: ReadonlySet<string> = new Set(["cpu", "wasm", "tensorflow"]);

/** Add `klShareOfLoss` to `metrics` when a KL term is reported. */
const withKlShare = (metrics: Record<string, number>): Record<string, number> => {
  const klShare = klShareOfLoss(metrics["policyLoss"] ?? 0, metrics["klLoss"] ?? 0);
  if (klShare !== undefined) metrics["klShareOfLoss"] = klShare;
  return metrics;
};

/**
 * Check that every per-sample array of an objective's `advantages` has one finite entry per sample,
 * throwing an `InvalidInputError` naming the objective and the array otherwise.
 *
 * @since 0.2.0
 * @category building blocks
 */
export const checkStepSamples = (subject: string, samples: StepSamples, expected: number): void => {
  if (samples.perSample.advantage === undefined)
    throw invalid(subject, "advantage", "Expected advantages() to return perSample.advantage");
  for (const [key, values] of Object.entries(samples.perSample)) {
    checkLength(subject, key, values, expected);
    const index = values.findIndex((value) => !Number.isFinite(value));
    if (index !== -1)
      throw invalid(subject, `${key}[${index}]`, `Expected a finite number, got ${values[index]}`);
  }
};

/**
 * Assemble an `ObjectiveV2` from its parts. The whole-batch `loss(input)` computes the advantages
 * of every row, normalises by the batch's own counts (from its mask; `paddedLength` is the padded
 * width `T`) and reads the metrics, which is what a trainer's step over one micro-batch does.
 *
 * On a host backend (`cpu`, `wasm`, `tensorflow`) every metric is read synchronously into
 * `metrics`. On a device backend (`webgpu`) nothing is read synchronously: `metrics` holds the
 * host-side metrics (those of `advantages`), and the tensor metrics (with `klShareOfLoss`) arrive
 * through `deviceMetrics`, which reads them with `await tensor.data()` (from kept clones, so an
 * enclosing `tf.tidy` or disposing `loss` does not cut the read short) and then disposes what it
 * read; the returned `loss` is the caller's. Await `deviceMetrics` before counting tensors. The
 * mask is read only while it is still on the host there (see `readHostValues` of
 * `@apo-rl/tensor`), so pass `lengths` when calling `loss` on a GPU backend with a mask that is
 * already on the device: the totals are then `Σ lengths` tokens and the rows with a positive length.
 *
 * @example
 * ```ts
 * const myObjective = defineObjective({ name: "mine", metricNames: ["loss"], usesReference: () => false,
 *   advantages: (batch) => ({ perSample: { advantage: groupAdvantages(batch.rewards, batch.groupSize) }, metrics: {} }),
 *   microBatchLoss: (input) => { ... } });
 * ```
 * @since 0.2.0
 * @category building blocks
 */
export const defineObjective = (parts: ObjectiveParts): ObjectiveV2<tf.Tensor> => ({
  specificationVersion: "v2",
  name: parts.name,
  metricNames: parts.metricNames,
  usesReference: parts.usesReference,
  advantages: parts.advantages,
  microBatchLoss: parts.microBatchLoss,
  loss(input: ObjectiveInput<tf.Tensor>, context: ObjectiveContext): ObjectiveOutput<tf.Tensor> {
    const checked = checkInput(parts.name, input);
    const samples = parts.advantages(
      {
        rewards: input.rewards,
        correct: input.correct,
        lengths: checked.lengths,
        groupSize: input.groupSize,
      },
      context,
    );
    checkStepSamples(parts.name, samples, checked.samples);
    const output = parts.microBatchLoss(
      {
        logp: input.logp,
        logpOld: input.logpOld,
        ...(input.logpRef === undefined ? {} : { logpRef: input.logpRef }),
        mask: input.mask,
        samples: samples.perSample,
        totals: batchTotals(checked),
      },
      context,
    );
    const metrics: Record<string, number> = { ...samples.metrics };
    const owned = [...new Set(Object.values(output.metrics))].filter((tensor) => tensor !== output.loss);
    if (HOST_BACKENDS.has(tf.getBackend())) {
      for (const [key, tensor] of Object.entries(output.metrics)) metrics[key] = tensor.dataSync()[0] ?? 0;
      tf.dispose(owned);
      return { loss: output.loss, metrics: withKlShare(metrics) };
    }
    // Kept clones share the metrics' data: an enclosing `tf.tidy` (`valueAndGrad`'s forward pass)
    // or the caller disposing `loss` cannot free what the pending reads still need.
    const entries = Object.entries(output.metrics).map(
      ([key, tensor]) => [key, tf.keep(tensor.clone())] as const,
    );
    tf.dispose(owned);
    const deviceMetrics = Promise.all(entries.map(([, tensor]) => tensor.data()))
      .then((values) => {
        const read: Record<string, number> = { ...metrics };
        entries.forEach(([key], index) => {
          read[key] = values[index]![0] ?? 0;
        });
        return withKlShare(read);
      })
      .finally(() => tf.dispose(entries.map(([, tensor]) => tensor)));
    return { loss: output.loss, metrics, deviceMetrics };
  },
});
