import { randomBytes } from "node:crypto";
import { type FileHandle, open, rename, rm } from "node:fs/promises";

/** A temporary sibling of `file` (same directory, so the final rename is atomic). */
export const temporaryPath = (file: string): string =>
  `${file}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;

/**
 * Write `file` through a temporary sibling that is renamed into place once complete: readers see
 * the old file or the whole new one, never a partial write. The temporary file is removed on failure.
 */
export const writeAtomically = async (
  file: string,
  write: (handle: FileHandle) => Promise<void>,
): Promise<void> => {
  const temporary = temporaryPath(file);
  const handle = await open(temporary, "w");
  try {
    await write(handle);
    await handle.sync();
    await handle.close();
    await rename(temporary, file);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
};

/** Write a text file atomically. */
export const writeTextAtomically = (file: string, text: string): Promise<void> =>
  writeAtomically(file, async (handle) => {
    await handle.writeFile(text, "utf8");
  });
