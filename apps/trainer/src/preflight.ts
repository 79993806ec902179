import { randomBytes } from "node:crypto";
import { mkdir, readdir, rm, stat, statfs, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PreflightError } from "./errors.js";

const probe = async (directory: string, what: string): Promise<void> => {
  const file = join(directory, `.apo-probe-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    await writeFile(file, "probe\n");
    await rm(file);
  } catch (cause) {
    await rm(file, { force: true }).catch(() => {});
    throw new PreflightError({
      path: directory,
      reason: `${what} is not writable (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}): every step would be lost at the first checkpoint`,
    });
  }
};

/**
 * Create the run directory and check that it is writable, saying clearly when it is not (instead of
 * a raw `EACCES … mkdir`).
 *
 * @since 0.1.0
 * @category run directory
 */
export const createRunDirectory = async (runDirectory: string): Promise<void> => {
  try {
    await mkdir(runDirectory, { recursive: true });
  } catch (cause) {
    throw new PreflightError({
      path: runDirectory,
      reason: `cannot create the run directory (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}); choose a writable output.runDir`,
    });
  }
  await probe(runDirectory, "the run directory");
};

/** Total size in bytes of the files under `path`. */
export const directorySize = async (path: string): Promise<number> => {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await directorySize(join(path, entry));
  return total;
};

const formatBytes = (bytes: number): string =>
  bytes >= 2 ** 30
    ? `${(bytes / 2 ** 30).toFixed(1)} GiB`
    : bytes >= 2 ** 20
      ? `${(bytes / 2 ** 20).toFixed(1)} MiB`
      : `${bytes} B`;

/**
 * Checks run before the first step: a probe file is written and deleted in the run directory and
 * in `checkpoints/`, and the free space of `checkpoints/` must hold one more checkpoint of
 * `checkpointBytes`. Fails with {@link PreflightError} saying which check failed.
 *
 * @since 0.1.0
 * @category run directory
 */
export const preflight = async (options: {
  readonly runDirectory: string;
  readonly checkpoints: string;
  readonly checkpointBytes: number;
  /** Free bytes of the file system holding `path` (default: `statfs`). */
  readonly freeBytes?: (path: string) => Promise<number>;
}): Promise<void> => {
  await probe(options.runDirectory, "the run directory");
  await probe(options.checkpoints, "checkpoints/");
  const free = await (
    options.freeBytes ??
    (async (path: string) => {
      const info = await statfs(path);
      return info.bavail * info.bsize;
    })
  )(options.checkpoints);
  if (free < options.checkpointBytes)
    throw new PreflightError({
      path: options.checkpoints,
      reason: `only ${formatBytes(free)} free on its disk, but one checkpoint needs about ${formatBytes(options.checkpointBytes)}`,
    });
};
