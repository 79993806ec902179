import { reasoningSolution, syntheticCountingTask, syntheticReasoningTask } from "@apo-rl/datasets";
import type { QwenVLProcessorShape } from "@apo-rl/qwen-vl";
import { initBackend } from "@apo-rl/tensor";
import { inProcessBatchVerifier } from "../BatchVerifier.js";
import { demoBaseDirectory } from "../demo/demoAssets.js";
import { demoResponse, promptText } from "../demo/demoResponse.js";
import { demoVerifier } from "../demo/demoVerifier.js";
import { loadQwenPolicy } from "../qwen/loadQwenPolicy.js";
import { type TrainingExample, toTrainingExample } from "../TrainingData.js";
import { runSft, type SftSummary } from "./runSft.js";
import type { SftConfig } from "./SftConfig.js";
import type { SftExample } from "./sftLoss.js";

/**
 * The supervised response of a synthetic counting example (see `demoResponse`), tokenised with the
 * policy's tokenizer and ended with `<|im_end|>`.
 *
 * @since 0.1.0
 * @category sft
 */
export const demoSftTarget =
  (processor: QwenVLProcessorShape) =>
  (example: TrainingExample): SftExample => {
    const text = demoResponse(promptText(example.request.messages), example.answer);
    return {
      request: example.request,
      responseIds: [...processor.tokenizer.encode(text), processor.specialTokens.imEnd],
      responseText: text,
    };
  };

/**
 * The supervised response of a synthetic reasoning example: its enumerating worked solution
 * (`reasoningSolution` of @apo-rl/datasets), tokenised and ended with `<|im_end|>`.
 *
 * @since 0.1.0
 * @category sft
 */
export const reasoningSftTarget =
  (processor: QwenVLProcessorShape) =>
  (example: TrainingExample): SftExample => {
    const text = reasoningSolution(promptText(example.request.messages), example.answer);
    return {
      request: example.request,
      responseIds: [...processor.tokenizer.encode(text), processor.specialTokens.imEnd],
      responseText: text,
    };
  };

const sftTask = (data: SftConfig["data"]) => {
  const colors = data.targetColors === undefined ? {} : { targetColors: data.targetColors };
  if (data.task === "reasoning")
    return syntheticReasoningTask({
      seed: data.seed,
      trainSize: data.trainSize,
      heldOutSize: data.heldOutSize,
      imageSize: data.imageSize,
      ...(data.maxCount === undefined ? {} : { maxCount: data.maxCount }),
      ...colors,
    });
  return syntheticCountingTask({
    seed: data.seed,
    trainSize: data.trainSize,
    heldOutSize: data.heldOutSize,
    variant: data.variant,
    difficulty: data.difficulty,
    imageSize: data.imageSize,
    ...colors,
  });
};

/**
 * `apo-train sft`: initialise the backend, build the Qwen2.5-VL policy of `config.model` (`demo`:
 * the demo's base directory), generate the synthetic task of `config.data` and run
 * {@link runSft}; the checkpoint lands in `config.output.dir`.
 *
 * @since 0.1.0
 * @category sft
 */
export const runSftFromConfig = async (
  config: SftConfig,
  options: { readonly log?: (line: string) => void } = {},
): Promise<SftSummary> => {
  const backend = await initBackend(config.backend === "auto" ? undefined : config.backend);
  const base = config.model.base === "demo" ? demoBaseDirectory() : config.model.base;
  const policy = await loadQwenPolicy(base, {
    ...(config.model.initSeed === undefined ? {} : { initSeed: config.model.initSeed }),
    ...(config.model.initMergerStd === undefined ? {} : { initMergerStd: config.model.initMergerStd }),
    trainVisionTower: config.model.trainVisionTower,
    entropy: false,
  });
  try {
    const task = sftTask(config.data);
    return await runSft(
      {
        config,
        policy,
        train: task.train.map(toTrainingExample),
        heldOut: task.heldOut.map(toTrainingExample),
        target:
          config.data.task === "reasoning"
            ? reasoningSftTarget(policy.processor)
            : demoSftTarget(policy.processor),
        verifier: inProcessBatchVerifier(demoVerifier()),
        backend: backend.chosen,
      },
      options,
    );
  } finally {
    policy.dispose();
    policy.model.dispose();
  }
};
