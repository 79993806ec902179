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

/** The step totals of one whole batch, from its mask (read once by `checkInput`). */
const batchTotals = (checked: CheckedInput): StepTotals => {
  let tokens = 0;
  let responseSequences = 0;
  for (let sample = 0; sample < checked.samples; sample++) {
    let count = 0;
    for (let token = 0; token < checked.tokens; token++)
      if (checked.mask[sample * checked.tokens + token]! > 0) count++;
    tokens += count;
    if (count > 0) responseSequences++;
  }
  return { tokens, sequences: checked.samples, responseSequences, paddedLength: checked.tokens };
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
    const owned = new Set<tf.Tensor>();
    for (const [key, tensor] of Object.entries(output.metrics)) {
      metrics[key] = tensor.dataSync()[0] ?? 0;
      if (tensor !== output.loss) owned.add(tensor);
    }
    tf.dispose([...owned]);
    const klShare = klShareOfLoss(metrics["policyLoss"] ?? 0, metrics["klLoss"] ?? 0);
    if (klShare !== undefined) metrics["klShareOfLoss"] = klShare;
    return { loss: output.loss, metrics };
  },
});
