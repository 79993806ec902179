import { ResumeConfigError } from "./errors.js";
import type { TrainerConfig } from "./TrainerConfig.js";

/**
 * Config keys that only extend or observe a run: changing them on `--resume` is allowed (and
 * logged). A key listed here covers every key below it. Every other key changes the training
 * trajectory (objective and its options, seed, data, group size, model, optimizer, …).
 *
 * @since 0.1.0
 * @category resume
 */
export const OBSERVING_KEYS: ReadonlyArray<string> = [
  "train.steps",
  "train.evalEvery",
  "train.evalTemperature",
  "train.saveEvery",
  "train.keepLast",
  "train.maxConsecutiveNonFinite",
  "data.heldOutPath",
  "data.skipInvalid",
  "reward.workers",
  "output",
  "backend",
];

/**
 * One changed key: its dotted path and the values before (the checkpoint's) and now.
 *
 * @since 0.1.0
 * @category resume
 */
export interface ConfigDifference {
  readonly key: string;
  readonly before: unknown;
  readonly after: unknown;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Every leaf key whose value differs between two configs (arrays compare as wholes), sorted.
 *
 * @since 0.1.0
 * @category resume
 */
export const configDifferences = (before: unknown, after: unknown, prefix = ""): Array<ConfigDifference> => {
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) =>
      configDifferences(before[key], after[key], prefix === "" ? key : `${prefix}.${key}`),
    );
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ key: prefix, before, after }];
};

const observes = (key: string): boolean =>
  OBSERVING_KEYS.some((observing) => key === observing || key.startsWith(`${observing}.`));

const show = (value: unknown): string => (value === undefined ? "(unset)" : JSON.stringify(value));

/**
 * `key: before → after`.
 *
 * @since 0.1.0
 * @category resume
 */
export const describeDifference = (difference: ConfigDifference): string =>
  `${difference.key}: ${show(difference.before)} → ${show(difference.after)}`;

/**
 * Compare the config of a resumed run with the one its checkpoint was trained with. Keys of
 * {@link OBSERVING_KEYS} may change (each change is logged); `train.steps` below the checkpoint's
 * step is an error; any other change fails with {@link ResumeConfigError} listing every difference,
 * unless `allowChange` (then each is logged). Resolves to the differences found.
 *
 * @since 0.1.0
 * @category resume
 */
export const checkResumeConfig = (options: {
  readonly saved: unknown;
  readonly current: TrainerConfig;
  readonly checkpointStep: number;
  readonly allowChange: boolean;
  /** Names the saved config in errors. */
  readonly source: string;
  readonly log: (line: string) => void;
}): ReadonlyArray<ConfigDifference> => {
  const { current, checkpointStep, log } = options;
  if (current.train.steps < checkpointStep)
    throw new ResumeConfigError({
      path: options.source,
      reason: `train.steps is ${current.train.steps} but the checkpoint already holds ${checkpointStep} steps; set train.steps to ${checkpointStep} or more`,
      differences: [],
    });
  const differences = configDifferences(options.saved, current);
  const trajectory = differences.filter((difference) => !observes(difference.key.replace(/\.\d+$/, "")));
  if (trajectory.length > 0 && !options.allowChange)
    throw new ResumeConfigError({
      path: options.source,
      reason: `${trajectory.length} key${trajectory.length === 1 ? "" : "s"} that change the training trajectory differ from the checkpoint's config (pass --allow-config-change to accept them)`,
      differences: trajectory.map(describeDifference),
    });
  for (const difference of differences)
    log(
      `resume: config changed ${describeDifference(difference)}${
        observes(difference.key) ? "" : " (changes the training trajectory; allowed by --allow-config-change)"
      }`,
    );
  if (
    differences.some((difference) => difference.key === "train.steps") &&
    current.optimizer.schedule === "cosine"
  )
    log("resume: the cosine learning-rate schedule now spans the new train.steps");
  return differences;
};
