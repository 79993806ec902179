import { dirname } from "node:path";
import {
  type DatasetItem,
  epochOrder,
  readDataset,
  syntheticCountingTask,
  syntheticReasoningTask,
} from "@apo-rl/datasets";
import { qwenPromptLimits } from "./qwen/qwenRowLimits.js";
import { referenceValidatorFromConfig } from "./referenceValidation.js";
import { decodeFailure, type RowLimits, validateRows } from "./rowValidation.js";
import type { TrainerConfig } from "./TrainerConfig.js";
import { samplerCursor, type TrainingData, type TrainingExample, toTrainingExample } from "./TrainingData.js";

const read = async (
  path: string,
  config: TrainerConfig["data"],
  limits: RowLimits,
  validateAnswer: (answer: string) => string | undefined,
) => {
  const format = config.format === "synthetic" ? undefined : config.format;
  const loaded = await readDataset(path, {
    ...(format === undefined ? {} : { format }),
    root: dirname(path),
    allowOutsideRoot: config.allowOutsideRoot,
    skipInvalid: config.skipInvalid,
    validateAnswer,
  });
  return validateRows(loaded, limits, config.skipInvalid);
};

/** The limits rows are checked against at load (see `validateRows`). */
const rowLimits = async (config: TrainerConfig): Promise<RowLimits> => {
  const qwen = await qwenPromptLimits(config);
  return {
    maxPromptTokens: config.data.maxPromptTokens ?? qwen?.longestPrompt,
    maxImagesPerPrompt: config.data.maxImagesPerPrompt,
    maxImagePixels: config.data.maxImagePixels,
    measure: qwen?.measure,
  };
};

const withSource =
  (file: string) =>
  (item: DatasetItem): TrainingExample => ({ ...toTrainingExample(item), source: { file, row: item.row } });

/**
 * Build the data of a run from `config.data` with @apo-rl/datasets:
 * - `synthetic`: the synthetic counting or reasoning task (`synthetic.task`; its own fixed held-out
 *   split of `heldOutSize` prompts);
 * - `view-r1` / `jsonl`: the file at `path`; the held-out set is `heldOutPath` when given, else
 *   `heldOutSize` items split off by a seeded shuffle (seed `train.seed`).
 * Every reference answer is checked by the configured accuracy verifier (`referenceValidatorFromConfig`).
 * Bad rows fail with every row's problem, unless `skipInvalid` (then `skipped` counts them).
 *
 * @since 0.1.0
 * @category data
 */
export const createTrainingData = async (config: TrainerConfig): Promise<TrainingData> => {
  const data = config.data;
  const seed = config.train.seed;
  if (data.format === "synthetic") {
    const synthetic = data.synthetic;
    const colors = synthetic.targetColors === undefined ? {} : { targetColors: synthetic.targetColors };
    const task =
      synthetic.task === "reasoning"
        ? syntheticReasoningTask({
            seed,
            trainSize: synthetic.trainSize,
            heldOutSize: data.heldOutSize,
            imageSize: synthetic.imageSize,
            ...(synthetic.maxCount === undefined ? {} : { maxCount: synthetic.maxCount }),
            ...colors,
          })
        : syntheticCountingTask({
            seed,
            trainSize: synthetic.trainSize,
            heldOutSize: data.heldOutSize,
            difficulty: synthetic.difficulty,
            variant: synthetic.variant,
            imageSize: synthetic.imageSize,
            ...colors,
          });
    return {
      train: samplerCursor(task.train.map(toTrainingExample), seed),
      heldOut: task.heldOut.map(toTrainingExample),
      skipped: 0,
    };
  }
  const limits = await rowLimits(config);
  const validateAnswer = referenceValidatorFromConfig(config);
  const loaded = await read(data.path!, data, limits, validateAnswer);
  let train: ReadonlyArray<DatasetItem> = loaded.items;
  let heldOut: ReadonlyArray<DatasetItem>;
  let skipped = loaded.skippedRows;
  const skippedRows = [...loaded.skippedDetails];
  let heldOutFile = loaded.path;
  if (data.heldOutPath !== undefined) {
    const loadedHeldOut = await read(data.heldOutPath, data, limits, validateAnswer);
    heldOut = loadedHeldOut.items;
    heldOutFile = loadedHeldOut.path;
    skipped += loadedHeldOut.skippedRows;
    skippedRows.push(...loadedHeldOut.skippedDetails);
  } else {
    const order = epochOrder(loaded.items.length, seed, 0);
    const size = Math.min(data.heldOutSize, Math.max(0, loaded.items.length - 1));
    const heldOutIndexes = new Set(order.slice(0, size));
    heldOut = order.slice(0, size).map((index) => loaded.items[index]!);
    train = loaded.items.filter((_, index) => !heldOutIndexes.has(index));
  }
  return {
    train: samplerCursor(train.map(withSource(loaded.path)), seed),
    heldOut: heldOut.map(withSource(heldOutFile)),
    skipped,
    skippedRows,
    checkExample: (example) => decodeFailure(example.request.images ?? []),
  };
};
