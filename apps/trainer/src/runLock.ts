import { open, readFile, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { RunLockError } from "./errors.js";

/**
 * The lock file of a run directory: `<runDir>/run.lock`, holding the owner's pid, host and start time.
 *
 * @since 0.1.0
 * @category run directory
 */
export const RUN_LOCK_FILE = "run.lock";

/**
 * Who holds a run directory.
 *
 * @since 0.1.0
 * @category run directory
 */
export interface RunLockOwner {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
}

/**
 * A held run-directory lock; `release` removes the file (only while it is still ours).
 *
 * @since 0.1.0
 * @category run directory
 */
export interface RunLock {
  readonly path: string;
  readonly owner: RunLockOwner;
  release(): Promise<void>;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

const readOwner = async (path: string): Promise<RunLockOwner | undefined> => {
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<RunLockOwner>;
    return typeof value.pid === "number" && typeof value.host === "string"
      ? { pid: value.pid, host: value.host, startedAt: String(value.startedAt ?? "") }
      : undefined;
  } catch {
    return undefined;
  }
};

const create = async (path: string, owner: RunLockOwner): Promise<boolean> => {
  try {
    const handle = await open(path, "wx");
    try {
      await handle.writeFile(`${JSON.stringify(owner)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new RunLockError({ path, reason: `cannot create the lock file (${(error as Error).message})` });
  }
};

/**
 * Take the exclusive lock of a run directory (the directory must exist): the file is created with
 * `O_EXCL`, so of two runs started at once exactly one gets it. A lock whose owner is alive (same
 * host, the pid answers) or on another host is refused with {@link RunLockError} naming the owner. A
 * stale lock (same host, dead pid) or an unreadable one is taken over, and `log` says so.
 *
 * @since 0.1.0
 * @category run directory
 */
export const acquireRunLock = async (
  runDirectory: string,
  log: (line: string) => void = () => {},
): Promise<RunLock> => {
  const path = join(runDirectory, RUN_LOCK_FILE);
  const owner: RunLockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await create(path, owner))
      return {
        path,
        owner,
        release: async () => {
          const current = await readOwner(path);
          if (current?.pid === owner.pid && current.host === owner.host) await rm(path, { force: true });
        },
      };
    const current = await readOwner(path);
    if (current !== undefined) {
      if (current.host !== owner.host)
        throw new RunLockError({
          path,
          reason: `held by pid ${current.pid} on host ${current.host} since ${current.startedAt}: another run uses this directory (delete the lock file only if that run is gone)`,
        });
      if (isAlive(current.pid))
        throw new RunLockError({
          path,
          reason: `held by pid ${current.pid} (running since ${current.startedAt}): another run uses this directory; wait for it, stop it, or choose another output.runDir`,
        });
      log(`taking over the stale run lock ${path} of pid ${current.pid} (no such process)`);
    } else log(`taking over the unreadable run lock ${path}`);
    await rm(path, { force: true });
  }
  throw new RunLockError({ path, reason: "another process keeps taking the lock" });
};
