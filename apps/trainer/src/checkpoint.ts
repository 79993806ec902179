import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type { AdamW } from "./AdamW.js";
import { CheckpointError } from "./errors.js";
import type { TrainablePolicy } from "./TrainablePolicy.js";

/**
 * Trainer state saved next to the weights and optimizer moments.
 *
 * @since 0.1.0
 * @category checkpoints
 */
export interface TrainerState {
  /** Number of optimizer steps completed. */
  readonly step: number;
  /** State of the trainer's seeded generator (sampling seeds). */
  readonly randomState: number;
  /** The training data cursor's saved position. */
  readonly dataCursor: unknown;
  readonly consecutiveNonFinite: number;
}

/**
 * A complete checkpoint on disk.
 *
 * @since 0.1.0
 * @category checkpoints
 */
export interface CheckpointLocation {
  readonly step: number;
  readonly path: string;
}

const MANIFEST = "checkpoint.json";
const TEMPORARY_PREFIX = ".tmp-";
const NAME = /^step-(\d{8})$/;

/**
 * Directory name of the checkpoint after `step` steps: `step-00000042`.
 *
 * @since 0.1.0
 * @category checkpoints
 */
export const checkpointName = (step: number): string => `step-${String(step).padStart(8, "0")}`;

const syncTree = async (path: string): Promise<void> => {
  const info = await stat(path);
  if (info.isDirectory()) for (const entry of await readdir(path)) await syncTree(join(path, entry));
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};

/**
 * Every complete checkpoint under `root` (a directory `step-NNNNNNNN` holding `checkpoint.json`),
 * oldest first. Temporary directories of interrupted writes are ignored.
 *
 * @since 0.1.0
 * @category checkpoints
 */
export const listCheckpoints = async (root: string): Promise<ReadonlyArray<CheckpointLocation>> => {
  const entries = await readdir(root).catch(() => [] as string[]);
  const found: CheckpointLocation[] = [];
  for (const entry of entries) {
    const match = NAME.exec(entry);
    if (match === null) continue;
    const path = join(root, entry);
    const manifest = await readFile(join(path, MANIFEST), "utf8").then(
      (text) => JSON.parse(text) as { step?: unknown },
      () => undefined,
    );
    if (manifest?.step === Number(match[1])) found.push({ step: Number(match[1]), path });
  }
  return found.sort((a, b) => a.step - b.step);
};

/**
 * The newest complete checkpoint under `root`, if any.
 *
 * @since 0.1.0
 * @category checkpoints
 */
export const latestCheckpoint = async (root: string): Promise<CheckpointLocation | undefined> =>
  (await listCheckpoints(root)).at(-1);

/**
 * Delete the temporary directories that interrupted writes left under `root`.
 *
 * @since 0.1.0
 * @category checkpoints
 */
export const removeStaleTemporaries = async (root: string): Promise<number> => {
  const entries = await readdir(root).catch(() => [] as string[]);
  const stale = entries.filter((entry) => entry.startsWith(TEMPORARY_PREFIX));
  await Promise.all(stale.map((entry) => rm(join(root, entry), { recursive: true, force: true })));
  return stale.length;
};

/**
 * Write a checkpoint atomically: `writeContents` fills a temporary directory under `root`, the
 * manifest `checkpoint.json` is written last, every file is fsynced, and the directory is renamed
 * to `step-NNNNNNNN` in one `rename`. A crash at any point leaves either the previous checkpoints
 * alone or the new one complete. Afterwards only the newest `keepLast` checkpoints are kept.
 *
 * @since 0.1.0
 * @category checkpoints
 */
export const writeCheckpoint = async (
  root: string,
  step: number,
  writeContents: (directory: string) => Promise<void>,
  options: { readonly keepLast: number; readonly manifest?: Readonly<Record<string, unknown>> },
): Promise<CheckpointLocation> => {
  await mkdir(root, { recursive: true });
  const temporary = join(
    root,
    `${TEMPORARY_PREFIX}${checkpointName(step)}-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  const target = join(root, checkpointName(step));
  try {
    await mkdir(temporary);
    await writeContents(temporary);
    const manifest = { format: "apo-rl/checkpoint", version: 1, step, ...options.manifest };
    await writeFile(join(temporary, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    await syncTree(temporary);
    // Re-saving a step (e.g. a signal right after a periodic save) replaces it: move the old one aside first.
    const previous = `${join(root, TEMPORARY_PREFIX)}old-${checkpointName(step)}-${randomBytes(4).toString("hex")}`;
    const replaced = await rename(target, previous).then(
      () => true,
      () => false,
    );
    await rename(temporary, target);
    if (replaced) await rm(previous, { recursive: true, force: true });
    await syncTree(root).catch(() => {});
  } catch (cause) {
    await rm(temporary, { recursive: true, force: true });
    throw cause instanceof CheckpointError
      ? cause
      : new CheckpointError({ path: target, reason: `cannot write: ${(cause as Error).message}`, cause });
  }
  const all = await listCheckpoints(root);
  for (const old of all.slice(0, Math.max(0, all.length - options.keepLast)))
    await rm(old.path, { recursive: true, force: true });
  return { step, path: target };
};

/**
 * Whether every parameter holds only finite values.
 *
 * @since 0.1.0
 * @category checkpoints
 */
export const parametersAreFinite = (parameters: ReadonlyArray<tf.Tensor>): boolean =>
  parameters.every((parameter) => tf.tidy(() => tf.all(tf.isFinite(parameter)).dataSync()[0] === 1));

/**
 * Save the policy (`policy/` via `policy.save`), the optimizer (`optimizer/`) and the trainer state
 * (`trainer-state.json`) as one atomic checkpoint. Refuses to write non-finite weights.
 *
 * @since 0.1.0
 * @category checkpoints
 */
export const saveTrainingCheckpoint = async (
  root: string,
  parts: {
    readonly policy: TrainablePolicy;
    readonly optimizer: AdamW;
    readonly state: TrainerState;
    readonly keepLast: number;
  },
): Promise<CheckpointLocation> => {
  if (!parametersAreFinite(parts.policy.trainableParameters()))
    throw new CheckpointError({
      path: join(root, checkpointName(parts.state.step)),
      reason: "refusing to write a checkpoint: the weights hold NaN or Infinity",
    });
  return writeCheckpoint(
    root,
    parts.state.step,
    async (directory) => {
      await parts.policy.save(join(directory, "policy"));
      await parts.optimizer.save(join(directory, "optimizer"));
      await writeFile(join(directory, "trainer-state.json"), `${JSON.stringify(parts.state, null, 2)}\n`);
    },
    { keepLast: parts.keepLast },
  );
};

/**
 * Restore the policy weights and optimizer state from a checkpoint and return the trainer state.
 *
 * @since 0.1.0
 * @category checkpoints
 */
export const loadTrainingCheckpoint = async (
  location: CheckpointLocation,
  parts: { readonly policy: TrainablePolicy; readonly optimizer: AdamW },
): Promise<TrainerState> => {
  const statePath = join(location.path, "trainer-state.json");
  const state = await readFile(statePath, "utf8").then(
    (text) => JSON.parse(text) as TrainerState,
    (cause: Error) => {
      throw new CheckpointError({ path: statePath, reason: cause.message, cause });
    },
  );
  if (state.step !== location.step)
    throw new CheckpointError({
      path: statePath,
      reason: `holds step ${state.step}, the directory says ${location.step}`,
    });
  try {
    await parts.policy.load(join(location.path, "policy"));
  } catch (cause) {
    throw new CheckpointError({
      path: join(location.path, "policy"),
      reason: (cause as Error).message,
      cause,
    });
  }
  await parts.optimizer.load(join(location.path, "optimizer"));
  return state;
};
