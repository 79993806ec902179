/**
 * Contracts of apo-rl: the types, schemas and errors that packages and adapters share.
 *
 * @since 0.1.0
 */
export { decodeEffect, decodeSync, toInvalidInput } from "./decode.js";
export { InputProblem, InvalidInputError, UnsupportedSpecificationError } from "./errors.js";
export type { GenerationRequest, ImageInput, RawImage } from "./Message.js";
export { ChatMessage, ImagePart, TextPart } from "./Message.js";
export { type ObjectiveMetricName, objectiveMetricNames } from "./MetricNames.js";
export type {
  MicroBatchOutput,
  ObjectiveContext,
  ObjectiveInput,
  ObjectiveMicroBatch,
  ObjectiveOutput,
  ObjectiveV1,
  ObjectiveV2,
  SampleBatch,
  StepSamples,
  StepTotals,
} from "./Objective.js";
export type {
  GenerationOptions,
  PolicyBatch,
  PolicyLogprobs,
  PolicyV1,
  RolloutsWithReference,
} from "./Policy.js";
export { FinishReason, Group, Rollout, ScoredRollout } from "./Rollout.js";
export type { Verification, VerifierV1 } from "./Verifier.js";
export { assertSpecificationVersion, SUPPORTED_SPECIFICATION_VERSIONS } from "./version.js";
